package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
)

// The chart: throughput against callers, one line per stack, a panel per
// workload (rows) and value size (columns). Drawn with the standard
// library only.

var stackColors = map[string]color.RGBA{
	StackPlaintext:  {110, 110, 110, 255},
	StackRedsafe:    {31, 119, 180, 255},
	StackSealed:     {148, 103, 189, 255},
	StackLocalCache: {44, 160, 44, 255},
	StackGoRedis:    {230, 120, 10, 255},
}

var (
	white = color.RGBA{255, 255, 255, 255}
	ink   = color.RGBA{30, 30, 30, 255}
	grid  = color.RGBA{225, 225, 225, 255}
	axis  = color.RGBA{150, 150, 150, 255}
)

const (
	panelW, panelH = 400, 300
	plotL, plotR   = 78, 16 // margins inside a panel
	plotT, plotB   = 40, 44
	headerH        = 84 // with one line of legend
	legendLineH    = 24
	textScale      = 2
)

// WritePNG draws the chart of r's results.
func (r Report) WritePNG(w io.Writer) error {
	type key struct {
		workload string
		size     int
	}
	var workloads []string
	var sizes []int
	var stacks []string
	series := map[key]map[string]map[int]float64{} // panel -> stack -> callers -> ops/s
	var callers []int
	for _, res := range r.Results {
		if !slices.Contains(workloads, res.Workload) {
			workloads = append(workloads, res.Workload)
		}
		if !slices.Contains(sizes, res.Size) {
			sizes = append(sizes, res.Size)
		}
		if !slices.Contains(stacks, res.Stack) {
			stacks = append(stacks, res.Stack)
		}
		if !slices.Contains(callers, res.Callers) {
			callers = append(callers, res.Callers)
		}
		k := key{res.Workload, res.Size}
		if series[k] == nil {
			series[k] = map[string]map[int]float64{}
		}
		if series[k][res.Stack] == nil {
			series[k][res.Stack] = map[int]float64{}
		}
		series[k][res.Stack][res.Callers] = res.OpsPerSec
	}
	slices.Sort(callers)
	cols, rows := max(len(sizes), 1), max(len(workloads), 1)
	legend := legendAt(stacks, cols*panelW)
	header := headerH + (legend[len(legend)-1].Y - legend[0].Y)
	img := image.NewRGBA(image.Rect(0, 0, cols*panelW, header+rows*panelH))
	fill(img, img.Bounds(), white)

	title := "REDSAFE BENCH: THROUGHPUT (OPS/S) AGAINST CONCURRENT CALLERS"
	text(img, 16, 14, title, ink, textScale)
	sub := r.Machine.Summary()
	if r.Machine.Redis != "" {
		sub = "REDIS " + r.Machine.Redis + ", " + sub
	}
	text(img, 16, 36, sub, axis, 1)
	for i, s := range stacks {
		at := legend[i]
		fill(img, image.Rect(at.X, at.Y+5, at.X+28, at.Y+9), stackColors[s])
		text(img, at.X+36, at.Y, s, ink, textScale)
	}

	for row, wl := range workloads {
		for col, size := range sizes {
			k := key{wl, size}
			if series[k] == nil {
				continue
			}
			r.panel(img, image.Pt(col*panelW, header+row*panelH), wl, size, stacks, series[k], callers)
		}
	}
	return png.Encode(w, img)
}

// legendAt places each stack's entry of the legend, wrapping to a new line
// where the next would not fit in width: five stacks overflow two panels.
// It returns at least one point.
func legendAt(stacks []string, width int) []image.Point {
	at := []image.Point{}
	x, y := 16, 53
	for _, s := range stacks {
		w := 36 + textWidth(s, textScale)
		if x > 16 && x+w > width-16 {
			x, y = 16, y+legendLineH
		}
		at = append(at, image.Pt(x, y))
		x += w + 32
	}
	if len(at) == 0 {
		at = append(at, image.Pt(x, y))
	}
	return at
}

func (r Report) panel(img *image.RGBA, at image.Point, workload string, size int, stacks []string, s map[string]map[int]float64, callers []int) {
	x0, y0 := at.X+plotL, at.Y+plotT
	x1, y1 := at.X+panelW-plotR, at.Y+panelH-plotB
	text(img, x0, at.Y+12, strings.ToUpper(workload+", "+SizeName(size)), ink, textScale)

	top := 0.0
	for _, pts := range s {
		for _, v := range pts {
			top = max(top, v)
		}
	}
	step := niceStep(top / 4)
	top = math.Max(step*math.Ceil(top/step), step)
	for v := 0.0; v <= top+step/2; v += step {
		y := y1 - int(v/top*float64(y1-y0))
		hline(img, x0, x1, y, grid)
		label := shortCount(v)
		text(img, x0-8-textWidth(label, textScale), y-7, label, axis, textScale)
	}
	// Callers on a log scale, evenly spaced when they are 1, 16, 256.
	xOf := func(c int) int {
		if len(callers) == 1 {
			return (x0 + x1) / 2
		}
		lo, hi := math.Log(float64(callers[0])), math.Log(float64(callers[len(callers)-1]))
		return x0 + 12 + int((math.Log(float64(c))-lo)/(hi-lo)*float64(x1-x0-24))
	}
	hline(img, x0, x1, y1, axis)
	vline(img, x0, y0, y1, axis)
	for _, c := range callers {
		label := fmt.Sprint(c)
		text(img, xOf(c)-textWidth(label, textScale)/2, y1+8, label, ink, textScale)
	}
	text(img, (x0+x1)/2-textWidth("CALLERS", 1), y1+26, "CALLERS", axis, textScale)

	for _, st := range stacks {
		pts := s[st]
		if pts == nil {
			continue
		}
		c := stackColors[st]
		var prev *image.Point
		for _, n := range callers {
			v, ok := pts[n]
			if !ok {
				continue
			}
			p := image.Pt(xOf(n), y1-int(v/top*float64(y1-y0)))
			if prev != nil {
				line(img, *prev, p, c)
			}
			fill(img, image.Rect(p.X-3, p.Y-3, p.X+4, p.Y+4), c)
			prev = &p
		}
	}
}

// niceStep rounds a grid step up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// shortCount is 40K, 1.5M.
func shortCount(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), ".0") + "M"
	case v >= 1e3:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e3), ".0") + "K"
	}
	return fmt.Sprintf("%.0f", v)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	fill(img, image.Rect(x0, y, x1+1, y+1), c)
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	fill(img, image.Rect(x, y0, x+1, y1+1), c)
}

// line draws a 3-pixel-wide line (Bresenham, with a square pen).
func line(img *image.RGBA, a, b image.Point, c color.RGBA) {
	dx, dy := abs(b.X-a.X), -abs(b.Y-a.Y)
	sx, sy := sign(b.X-a.X), sign(b.Y-a.Y)
	e := dx + dy
	for p := a; ; {
		fill(img, image.Rect(p.X-1, p.Y-1, p.X+2, p.Y+2), c)
		if p == b {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			p.X += sx
		}
		if e2 <= dx {
			e += dx
			p.Y += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// text draws s at (x, y), the top left of its first glyph, scale pixels
// per font pixel. Characters the font lacks are left blank.
func text(img *image.RGBA, x, y int, s string, c color.RGBA, scale int) {
	prev := ' '
	for _, ch := range s {
		// The font is capitals, but for the x of a ratio such as 1.5x.
		digit := prev >= '0' && prev <= '9'
		prev = ch
		if ch != 'x' || !digit {
			ch = []rune(strings.ToUpper(string(ch)))[0]
		}
		if g, ok := glyphs[ch]; ok {
			for row, bits := range g {
				for col := range 5 {
					if bits&(1<<(4-col)) != 0 {
						fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
					}
				}
			}
		}
		x += 6 * scale
	}
}

func textWidth(s string, scale int) int { return len([]rune(s)) * 6 * scale }
