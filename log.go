package redsafe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
)

// logReport records the validation result. Findings hold no secrets by
// construction, so they are logged as they are. The insecure override is
// logged at error level at every start, so that it is never forgotten.
func logReport(ctx context.Context, log *slog.Logger, r Report, s *config) {
	level := slog.LevelInfo
	switch {
	case !r.OK():
		level = slog.LevelError
	case len(r.Warnings()) > 0:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("environment", string(r.Environment)),
		slog.String("environment_source", r.EnvironmentSource),
		slog.Int("errors", len(r.Errors())),
		slog.Int("warnings", len(r.Warnings())),
	}
	for _, f := range r.Findings {
		if f.Severity != SeverityInfo {
			attrs = append(attrs, slog.String(f.ID, f.Message))
		}
	}
	log.LogAttrs(ctx, level, "redsafe: configuration validated", attrs...)
	for _, f := range r.Findings {
		if f.ID == insecureOverrideID {
			log.LogAttrs(ctx, slog.LevelError, "redsafe: INSECURE OVERRIDE: connecting without TLS",
				slog.String("environment", string(r.Environment)), slog.String("addr", s.url.Addr()),
				slog.String("fix", f.Fix))
		}
	}
}

// keyDigest identifies a cache key in logs without writing it: keys often
// embed session ids and other secrets.
func keyDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}
