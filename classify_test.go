package redsafe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/seal"
)

func TestClassifyError(t *testing.T) {
	refused := &DecryptError{Err: seal.ErrAuthentication}
	for _, tc := range []struct {
		err  error
		want ErrorClass
	}{
		{nil, ""},
		{ErrNotFound, ""},
		{refused, ClassUndecryptable},
		{errors.Join(refused, &DecryptError{Err: seal.ErrMalformed}), ClassUndecryptable}, // GetMany
		{context.Canceled, ClassCanceled},
		{context.DeadlineExceeded, ClassTimeout},
		{fmt.Errorf("read: %w", &net.OpError{Op: "read", Err: syscall.ECONNRESET}), ClassUnreachable},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, ClassUnreachable},
		{io.EOF, ClassUnreachable},
		{rueidis.ErrClosing, ClassUnreachable},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, ClassTLS},
		{tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, ClassTLS},
		{errors.New("remote error: tls: bad certificate"), ClassTLS},
		{&credentialsError{}, ClassAuth},
		{&ConnectError{Cause: ErrWrongPassword}, ClassAuth},
		{&ConnectError{Cause: ErrCertExpired}, ClassTLS},
		{&ConnectError{Cause: ErrNotTLS}, ClassTLS},
		{&ConnectError{Cause: ErrTimeout}, ClassTimeout},
		{&ConnectError{Cause: ErrUnreachable}, ClassUnreachable},
		{&ConnectError{Cause: ErrNoPermission}, ClassPermission},
		{&ConnectError{Cause: ErrReplyRefused, Err: &ReplyError{Limit: ReplyLimitDepth}}, ClassProtocol},
		{fmt.Errorf("get: %w", &ReplyError{Limit: ReplyLimitBulk, err: errors.New("resp: reply string longer than 512 bytes")}), ClassProtocol},
		{errors.New("redsafe: negative ttl"), ClassOther},
		{&ReplicationError{Wanted: 1}, ClassNotReplicated},
	} {
		if got := ClassifyError(tc.err); got != tc.want {
			t.Errorf("ClassifyError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestClassifyErrorReplies: the error replies of a real server.
func TestClassifyErrorReplies(t *testing.T) {
	t.Parallel()
	s, c, _ := aclUserCache(t, "~app:* +@all -@dangerous")
	ctx := testContext(t)

	s.Do(t, "LPUSH", "app:list", "x")
	if _, err := c.Get(ctx, "app:list"); ClassifyError(err) != ClassServer {
		t.Errorf("Get of a list: %v is %q, want %q", err, ClassifyError(err), ClassServer)
	}
	if err := c.Set(ctx, "other:1", []byte("x"), time.Minute); ClassifyError(err) != ClassPermission {
		t.Errorf("Set outside the key pattern: %v is %q, want %q", err, ClassifyError(err), ClassPermission)
	}
}

// TestCauseOf: the cause each kind of error is read as, which Open,
// every operation and ClassifyError share.
func TestCauseOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{errors.New("redsafe: negative ttl"), nil},
		{fmt.Errorf("get: %w", ErrNotFound), ErrNotFound},
		{context.Canceled, context.Canceled},
		{context.DeadlineExceeded, ErrTimeout},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, ErrUnreachable},
		{&dialError{addr: "h:1", err: errors.New("proxy down")}, ErrUnreachable},
		{&dialError{addr: "h:1", err: io.EOF}, ErrUnreachable},
		{x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}, ErrCertHostname},
		{x509.CertificateInvalidError{Reason: x509.Expired}, ErrCertExpired},
		{errors.New("remote error: tls: protocol version not supported"), ErrTLSVersion},
		{errors.New("remote error: tls: certificate required"), ErrClientCertRequired},
		{errors.New("remote error: tls: bad certificate"), ErrTLS},
		{errors.New("NOPERM this user has no permissions to run the 'client|tracking' command"), ErrNoPermission},
		{&ConnectError{Cause: ErrCertExpired, Err: io.EOF}, ErrCertExpired},
		{&credentialsError{}, ErrCredentialsRejected},
	} {
		if got := causeOf(tc.err); got != tc.want {
			t.Errorf("causeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	for msg, want := range map[string]error{
		"NOAUTH Authentication required.":                    ErrNoAuth,
		"WRONGPASS invalid username-password pair":           ErrWrongPassword,
		"ERR invalid password":                               ErrWrongPassword, // Redis before 6
		"NOPERM no permissions":                              ErrNoPermission,
		"WRONGTYPE Operation against a key":                  ErrServer,
		"ERR unknown command 'x', with args beginning with:": ErrServer,
	} {
		if got := replyCause(msg); got != want {
			t.Errorf("replyCause(%q) = %v, want %v", msg, got, want)
		}
	}
}
