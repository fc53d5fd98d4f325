package serverconf

// File is one file of a deployment directory.
type File struct {
	Name   string // relative to the directory, slash-separated
	Data   []byte
	Secret bool // written 0600 (in a 0700 directory); otherwise 0644
}

// Deployment renders everything `redsafe conf` writes for the compose
// deployment: redis.conf and the compose file (public), users.acl
// (password hashes, 0600) and secrets/NAME.password with each plaintext
// password (0600), for operators to hand to clients and docker secrets.
// s is turned into container paths with ContainerSpec.
func Deployment(s Spec, u Users, o ComposeOptions) ([]File, error) {
	s = ContainerSpec(s)
	u = u.withDefaults()
	o.HealthUser = u.Health.Name
	conf, err := RedisConf(s)
	if err != nil {
		return nil, err
	}
	acl, err := ACL(s, u)
	if err != nil {
		return nil, err
	}
	compose, err := Compose(s, o)
	if err != nil {
		return nil, err
	}
	files := []File{
		{Name: ConfFileName, Data: conf},
		{Name: ACLFileName, Data: acl, Secret: true},
		{Name: ComposeFileName, Data: compose},
	}
	for _, x := range u.list() {
		// One line, like every secret file redsafe writes; readers trim it
		// (the health check's $(cat ...) does).
		files = append(files, File{Name: SecretFileName(x.Name), Data: []byte(x.Password + "\n"), Secret: true})
	}
	return files, nil
}
