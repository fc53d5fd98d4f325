package redsafe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/rueidis"
)

// ErrorClass is a short, fixed name for what kind of failure an error is.
// It is what metrics label errors with and what the health check answers
// with: unlike error messages, it can never carry a key, a password or a
// URL, and there are few of them.
type ErrorClass string

const (
	ClassTimeout       ErrorClass = "timeout"       // a deadline passed: the server is slow or silent
	ClassUnreachable   ErrorClass = "unreachable"   // the connection was refused, reset or closed
	ClassTLS           ErrorClass = "tls"           // the handshake failed: certificate, version, or not TLS
	ClassAuth          ErrorClass = "auth"          // the server refused the credentials, or wants some
	ClassPermission    ErrorClass = "permission"    // the ACL user may not run the command or touch the key
	ClassServer        ErrorClass = "server"        // any other error reply from Redis
	ClassUndecryptable ErrorClass = "undecryptable" // a stored value failed authentication (a *DecryptError)
	ClassCanceled      ErrorClass = "canceled"      // the caller canceled its context
	ClassProtocol      ErrorClass = "protocol"      // the server's reply broke a reply limit or was not RESP (a *ReplyError)
	ClassOther         ErrorClass = "other"         // anything else, such as an invalid argument
)

// ClassifyError returns the class of an error from a Cache method, Open or
// the health check: "" for nil and for ErrNotFound, which is not a failure.
// It only inspects err; unlike Open's diagnosis it never touches the
// network, so it is cheap enough for every failed operation.
func ClassifyError(err error) ErrorClass {
	// What a cache sees often is told apart without errors.Is, which
	// allocates for each DecryptError it unwraps, and before the errors.As
	// targets of classifyFailure, which escape to the heap.
	if _, refused := err.(*DecryptError); refused {
		return ClassUndecryptable
	}
	if err == nil || err == ErrNotFound {
		return ""
	}
	return classifyFailure(err)
}

func classifyFailure(err error) ErrorClass {
	var (
		connErr  *ConnectError
		redisErr *rueidis.RedisError
	)
	switch {
	case errors.Is(err, ErrNotFound):
		return ""
	case errors.Is(err, ErrUndecryptable):
		return ClassUndecryptable
	case errors.Is(err, ErrReplyRefused):
		return ClassProtocol
	case errors.As(err, &connErr):
		return connectCauseClass(connErr.Cause)
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case isTimeout(err):
		return ClassTimeout
	case isTLSError(err):
		return ClassTLS
	case errors.Is(err, ErrCredentialsRejected):
		return ClassAuth
	case errors.As(err, &redisErr):
		return replyClass(redisErr.Error())
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, rueidis.ErrClosing):
		return ClassUnreachable
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return ClassUnreachable
	}
	return ClassOther
}

// connectCauseClass maps Open's diagnosis, which is finer, onto the classes.
func connectCauseClass(cause error) ErrorClass {
	switch cause {
	case ErrTimeout:
		return ClassTimeout
	case ErrUnreachable:
		return ClassUnreachable
	case ErrCertUntrusted, ErrCertHostname, ErrCertExpired, ErrCertInvalid, ErrTLSVersion, ErrNotTLS, ErrTLSRequired, ErrClientCertRequired:
		return ClassTLS
	case ErrNoAuth, ErrWrongPassword, ErrCredentialsRejected:
		return ClassAuth
	case ErrNoPermission:
		return ClassPermission
	case ErrReplyRefused:
		return ClassProtocol
	}
	return ClassServer
}

// replyClass reads the error code Redis puts first in an error reply.
func replyClass(msg string) ErrorClass {
	switch {
	case strings.HasPrefix(msg, "NOAUTH"), strings.HasPrefix(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"):
		return ClassAuth
	case strings.HasPrefix(msg, "NOPERM"):
		return ClassPermission
	}
	return ClassServer
}

func isTLSError(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		alert     tls.AlertError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) ||
		strings.Contains(err.Error(), "tls: ") // also the alerts the server sends, whose type is unexported
}
