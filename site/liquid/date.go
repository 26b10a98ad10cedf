package liquid

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

func filterDate(c *Context, in any, args []any, _ map[string]any) (any, error) {
	format := toS(args[0])
	if format == "" {
		return in, nil
	}
	t, ok := ToTime(in, c.engine.Now, c.engine.Location)
	if !ok {
		return in, nil
	}
	return Strftime(t, format), nil
}

// timeLayouts are the forms Ruby's Time.parse reads in practice.
var timeLayouts = []string{
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05 2006 -0700", // the year again: Time.parse reads past it
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"January 2, 2006",
	"Jan 2, 2006",
	"2 January 2006",
	"2 Jan 2006",
	"January 2 2006",
	"Jan 2 2006",
}

// ToTime converts a date value as Liquid's Utils.to_date does: times
// as they are, "now"/"today", Unix seconds, or a parsed string.
func ToTime(v any, now func() time.Time, loc *time.Location) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case int:
		return time.Unix(int64(v), 0).In(loc), true
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return time.Time{}, false
		}
		switch strings.ToLower(s) {
		case "now", "today":
			return now().In(loc), true
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			return time.Unix(n, 0).In(loc), true
		}
		return ParseTime(s, loc)
	}
	return time.Time{}, false
}

// ParseTime reads a date string in the common forms; a time without
// a zone is in loc.
func ParseTime(s string, loc *time.Location) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Strftime formats t as Ruby's Time#strftime.
func Strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		start := i
		i++
		// flags and width
		var flag byte
		for i < len(f) && strings.IndexByte("-_0^#", f[i]) >= 0 {
			flag = f[i]
			i++
		}
		width := -1
		for i < len(f) && isDigit(f[i]) {
			if width < 0 {
				width = 0
			}
			width = width*10 + int(f[i]-'0')
			i++
		}
		colons := 0
		for i < len(f) && f[i] == ':' {
			colons++
			i++
		}
		if i >= len(f) {
			b.WriteString(f[start:])
			break
		}
		num := func(n, w int, pad byte) string {
			if width >= 0 {
				w = width
			}
			s := strconv.Itoa(n)
			switch flag {
			case '-':
				return s
			case '_':
				pad = ' '
			case '0':
				pad = '0'
			}
			for len(s) < w {
				s = string(pad) + s
			}
			return s
		}
		text := func(s string) string {
			if flag == '^' {
				s = strings.ToUpper(s)
			} else if flag == '#' {
				s = swapCase(s)
			}
			if width > len(s) {
				s = strings.Repeat(" ", width-len(s)) + s
			}
			return s
		}
		hour12 := t.Hour() % 12
		if hour12 == 0 {
			hour12 = 12
		}
		switch f[i] {
		case 'Y':
			b.WriteString(num(t.Year(), 0, '0'))
		case 'C':
			b.WriteString(num(t.Year()/100, 2, '0'))
		case 'y':
			b.WriteString(num(t.Year()%100, 2, '0'))
		case 'm':
			b.WriteString(num(int(t.Month()), 2, '0'))
		case 'B':
			b.WriteString(text(t.Month().String()))
		case 'b', 'h':
			b.WriteString(text(t.Month().String()[:3]))
		case 'd':
			b.WriteString(num(t.Day(), 2, '0'))
		case 'e':
			b.WriteString(num(t.Day(), 2, ' '))
		case 'j':
			b.WriteString(num(t.YearDay(), 3, '0'))
		case 'H':
			b.WriteString(num(t.Hour(), 2, '0'))
		case 'k':
			b.WriteString(num(t.Hour(), 2, ' '))
		case 'I':
			b.WriteString(num(hour12, 2, '0'))
		case 'l':
			b.WriteString(num(hour12, 2, ' '))
		case 'P':
			if t.Hour() < 12 {
				b.WriteString(text("am"))
			} else {
				b.WriteString(text("pm"))
			}
		case 'p':
			s := "AM"
			if t.Hour() >= 12 {
				s = "PM"
			}
			if flag == '#' {
				s = strings.ToLower(s)
				flag = 0
			}
			b.WriteString(text(s))
		case 'M':
			b.WriteString(num(t.Minute(), 2, '0'))
		case 'S':
			b.WriteString(num(t.Second(), 2, '0'))
		case 'L':
			b.WriteString(fmt.Sprintf("%03d", t.Nanosecond()/1e6))
		case 'N':
			w := 9
			if width > 0 {
				w = width
			}
			s := fmt.Sprintf("%09d", t.Nanosecond())
			for len(s) < w {
				s += "0"
			}
			b.WriteString(s[:w])
		case 'z':
			_, off := t.Zone()
			sign := '+'
			if off < 0 {
				sign, off = '-', -off
			}
			h, m := off/3600, off/60%60
			switch colons {
			case 1:
				fmt.Fprintf(&b, "%c%02d:%02d", sign, h, m)
			case 2:
				fmt.Fprintf(&b, "%c%02d:%02d:%02d", sign, h, m, off%60)
			default:
				fmt.Fprintf(&b, "%c%02d%02d", sign, h, m)
			}
		case 'Z':
			name, _ := t.Zone()
			b.WriteString(text(name))
		case 'A':
			b.WriteString(text(t.Weekday().String()))
		case 'a':
			b.WriteString(text(t.Weekday().String()[:3]))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(num(wd, 1, '0'))
		case 'w':
			b.WriteString(num(int(t.Weekday()), 1, '0'))
		case 'U':
			b.WriteString(num((t.YearDay()+6-int(t.Weekday()))/7, 2, '0'))
		case 'W':
			b.WriteString(num((t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0'))
		case 'G':
			y, _ := t.ISOWeek()
			b.WriteString(num(y, 4, '0'))
		case 'g':
			y, _ := t.ISOWeek()
			b.WriteString(num(y%100, 2, '0'))
		case 'V':
			_, w := t.ISOWeek()
			b.WriteString(num(w, 2, '0'))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'F':
			b.WriteString(Strftime(t, "%Y-%m-%d"))
		case 'T', 'X':
			b.WriteString(Strftime(t, "%H:%M:%S"))
		case 'D', 'x':
			b.WriteString(Strftime(t, "%m/%d/%y"))
		case 'R':
			b.WriteString(Strftime(t, "%H:%M"))
		case 'r':
			b.WriteString(Strftime(t, "%I:%M:%S %p"))
		case 'c':
			b.WriteString(Strftime(t, "%a %b %e %H:%M:%S %Y"))
		case 'v':
			b.WriteString(Strftime(t, "%e-%^b-%Y"))
		case '+':
			b.WriteString(Strftime(t, "%a %b %e %H:%M:%S %Z %Y"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteString(f[start : i+1])
		}
	}
	return b.String()
}

func swapCase(s string) string {
	r := []rune(s)
	for i, c := range r {
		if c >= 'a' && c <= 'z' {
			r[i] = c - 32
		} else if c >= 'A' && c <= 'Z' {
			r[i] = c + 32
		}
	}
	return string(r)
}
