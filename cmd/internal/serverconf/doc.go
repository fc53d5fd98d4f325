// Package serverconf renders the configuration of a TLS-only Redis server
// that redsafe clients can use and nothing else can abuse: redis.conf, the
// ACL file with its three users, and a hardened docker compose deployment.
//
// Every renderer is a pure function of a Spec: `redsafe up` renders host
// paths and runs redis-server itself, `redsafe conf` renders container paths
// for docker compose. Inputs are validated, never escaped into meaning: a
// path with a quote or newline, or a key pattern with a space (which would
// add ACL rules), is refused rather than written.
//
// The server that results:
//
//   - speaks only TLS (port 0), TLS 1.3 only in production;
//   - has the default user switched off, so every connection authenticates;
//   - stores passwords only as SHA-256 hashes in the ACL file;
//   - gives the application a cache's commands and no more: no Lua, no
//     FLUSHALL, no CONFIG, no KEYS, no DEBUG, no MODULE, no MIGRATE;
//   - refuses DEBUG, MODULE and changes to protected configs even for the
//     admin user at runtime;
//   - never evicts a key that has no TTL (maxmemory-policy volatile-lru).
package serverconf
