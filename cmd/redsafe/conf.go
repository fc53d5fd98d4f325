package main

var confCmd = &command{
	name:    "conf",
	summary: "(not yet built)",
	usage:   "Usage: redsafe conf\n",
	run: func(c *cli, cmd *command, args []string) int {
		c.errorf("conf: not built yet")
		return 2
	},
}
