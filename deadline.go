package redsafe

import (
	"context"

	"github.com/redis/rueidis"
)

// rueidis retries a read command (GET, EXISTS, PTTL, PING) on a broken
// connection until its context ends, so a call with a context that never
// ends would hang for as long as the server is down. Options.CommandTimeout
// bounds such calls. A caller's own deadline is left alone, and costs
// nothing extra.

func (c *Cache) do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	if _, ok := ctx.Deadline(); ok {
		return c.client.Do(ctx, cmd)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cmdTimeout)
	defer cancel()
	return c.client.Do(ctx, cmd)
}

func (c *Cache) doMulti(ctx context.Context, cmds ...rueidis.Completed) []rueidis.RedisResult {
	if _, ok := ctx.Deadline(); ok {
		return c.client.DoMulti(ctx, cmds...)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cmdTimeout)
	defer cancel()
	return c.client.DoMulti(ctx, cmds...)
}
