package serverconf

import "path"

// Paths inside the container of the compose deployment, and the sources
// they are mounted from, relative to the compose file (the `redsafe conf`
// directory).
const (
	ContainerConfFile = "/usr/local/etc/redis/redis.conf"
	ContainerACLFile  = "/usr/local/etc/redis/users.acl"
	ContainerTLSDir   = "/tls"
	ContainerDataDir  = "/data"

	ConfFileName    = "redis.conf"
	ACLFileName     = "users.acl"
	ComposeFileName = "docker-compose.secure.yml"
	CertsDirName    = "certs"
	SecretsDirName  = "secrets"

	// HealthSecret is the docker secret holding the health user's password;
	// compose mounts it at /run/secrets/<name>.
	HealthSecret = "redis_health_password"
)

// SecretFileName is where the password of user name is kept, relative to
// the deployment directory: secrets/NAME.password.
func SecretFileName(name string) string { return path.Join(SecretsDirName, name+".password") }

// ContainerSpec returns s with the paths of the compose deployment: TLS
// material in /tls, the ACL file next to redis.conf, data in /data, no pid
// file and logs on stdout. Everything else in s is kept.
func ContainerSpec(s Spec) Spec {
	s.TLSDir, s.ACLFile, s.DataDir = ContainerTLSDir, ContainerACLFile, ContainerDataDir
	s.PidFile, s.LogFile = "", ""
	return s
}
