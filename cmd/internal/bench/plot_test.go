package bench

import "testing"

// TestLegendWraps: the legend of every stack fits the chart's width,
// wrapping to a second line on a chart of two panels and not on four.
func TestLegendWraps(t *testing.T) {
	for _, c := range []struct{ width, lines int }{{2 * panelW, 2}, {4 * panelW, 1}} {
		at := legendAt(StackNames(), c.width)
		lines := map[int]bool{}
		for i, p := range at {
			lines[p.Y] = true
			if end := p.X + 36 + textWidth(StackNames()[i], textScale); end > c.width {
				t.Errorf("width %d: %s ends at %d", c.width, StackNames()[i], end)
			}
		}
		if len(lines) != c.lines {
			t.Errorf("width %d: %d lines of legend, want %d", c.width, len(lines), c.lines)
		}
	}
	if at := legendAt(nil, panelW); len(at) != 1 {
		t.Errorf("no stacks: %d points, want 1", len(at))
	}
}
