package main

var certsCmd = &command{
	name:    "certs",
	summary: "(not yet built)",
	usage:   "Usage: redsafe certs\n",
	run: func(c *cli, cmd *command, args []string) int {
		c.errorf("certs: not built yet")
		return 2
	},
}
