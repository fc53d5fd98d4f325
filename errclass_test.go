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
