// Package calendar is the holiday calendar of service hours: the libur
// nasional and cuti bersama of each year, as local dates (a holiday is
// the whole local day in each site's own zone). The years 2026 and 2027
// are built in (holidays-YYYY.yml, which name their source); the files
// of a directory (collector.yml report.holidays_dir) replace or extend
// them and add other years.
package calendar

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

//go:embed holidays-*.yml
var embedded embed.FS

// Holiday kinds.
const (
	KindNational   = "libur_nasional" // national holiday (Keppres / SKB)
	KindCollective = "cuti_bersama"   // collective leave (SKB 3 Menteri)
	KindRegional   = "libur_daerah"   // the Pemda's own holiday
)

// Modes of a file in the holidays directory.
const (
	ModeReplace = "replace" // the file is the whole year (default)
	ModeAdd     = "add"     // the file's holidays are added to the built-in year
)

var (
	kinds = []string{KindNational, KindCollective, KindRegional}
	modes = []string{ModeReplace, ModeAdd}
)

// hint is appended to "unknown field" errors.
const hint = "; a holiday file has year, source, provisional, mode and holidays (see the built-in holidays-2026.yml)"

// Year is one year's holiday file.
type Year struct {
	Year        int    `yaml:"year"`
	Source      string `yaml:"source"`
	Provisional bool   `yaml:"provisional"`
	// Mode says what a file in the holidays directory does to the
	// built-in year: replace (default) or add.
	Mode     string    `yaml:"mode"`
	Holidays []Holiday `yaml:"holidays"`

	// File is where the year was read from (embedded: "builtin:name").
	File string `yaml:"-"`
}

// Holiday is one day off.
type Holiday struct {
	Date string `yaml:"date"` // YYYY-MM-DD, a local date
	Kind string `yaml:"kind"` // libur_nasional | cuti_bersama | libur_daerah
	Name string `yaml:"name"`
}

// Calendar is the holidays of the years known.
type Calendar struct {
	years map[int]*Year
	days  map[string]bool // YYYY-MM-DD
}

// Parse decodes and validates one year's file strictly; every problem is
// "name:line:col: path: message".
func Parse(name string, data []byte) (*Year, error) {
	y := &Year{}
	doc, err := yamlconf.Decode(name, data, y, hint)
	if err != nil {
		return nil, err
	}
	y.File = name
	probs := yamlconf.NewProblems(doc)
	if y.Year < 2000 || y.Year > 2199 {
		probs.AddNear("year", "required: the year the file lists, 2000 to 2199 (got %d)", y.Year)
	}
	if y.Mode == "" {
		y.Mode = ModeReplace
	}
	probs.OneOf("mode", y.Mode, modes...)
	seen := map[string]int{}
	for i, h := range y.Holidays {
		at := fmt.Sprintf("holidays[%d]", i)
		d, err := time.Parse("2006-01-02", h.Date)
		switch {
		case err != nil:
			probs.AddNear(at+".date", "must be a date such as %d-08-17 (got %q)", max(y.Year, 2000), h.Date)
		case d.Year() != y.Year:
			probs.AddNear(at+".date", "%s is not in the file's year %d", h.Date, y.Year)
		default:
			if j, dup := seen[h.Date]; dup {
				probs.AddNear(at+".date", "%s is already listed as holidays[%d]", h.Date, j)
			}
			seen[h.Date] = i
		}
		if h.Kind == "" {
			probs.AddNear(at+".kind", "required: one of %s", yamlconf.QuoteList(kinds))
		} else {
			probs.OneOf(at+".kind", h.Kind, kinds...)
		}
		if strings.TrimSpace(h.Name) == "" {
			probs.AddNear(at+".name", "required: the holiday's name, such as \"Hari Raya Natal\"")
		}
	}
	if err := probs.Err(); err != nil {
		return nil, err
	}
	return y, nil
}

// Builtin returns the built-in calendar (2026 and 2027).
func Builtin() *Calendar {
	c, err := load(nil, "")
	if err != nil {
		panic(fmt.Sprintf("calendar: built-in holiday files: %v", err)) // tested
	}
	return c
}

// Load returns the built-in calendar with the *.yml files of dir (when
// not empty) applied: a file replaces its year or, with mode: add, adds
// to it.
func Load(dir string) (*Calendar, error) {
	if dir == "" {
		return Builtin(), nil
	}
	return load(os.DirFS(dir), dir)
}

func load(dir fs.FS, dirName string) (*Calendar, error) {
	c := &Calendar{years: map[int]*Year{}}
	names, err := fs.Glob(embedded, "holidays-*.yml")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		data, err := embedded.ReadFile(n)
		if err != nil {
			return nil, err
		}
		y, err := Parse("builtin:"+n, data)
		if err != nil {
			return nil, err
		}
		c.years[y.Year] = y
	}
	if dir != nil {
		names, err := fs.Glob(dir, "*.yml")
		if err != nil {
			return nil, fmt.Errorf("read holidays directory %s: %w", dirName, err)
		}
		more, _ := fs.Glob(dir, "*.yaml")
		names = append(names, more...)
		sort.Strings(names)
		if len(names) == 0 {
			if _, err := fs.Stat(dir, "."); err != nil {
				return nil, fmt.Errorf("read holidays directory %s: %w (set report.holidays_dir to a directory of holidays-YYYY.yml files, or leave it empty for the built-in years)", dirName, err)
			}
		}
		var errs []error
		from := map[int]string{}
		for _, n := range names {
			path := filepath.Join(dirName, n)
			data, err := fs.ReadFile(dir, n)
			if err != nil {
				errs = append(errs, fmt.Errorf("read holiday file %s: %w", path, err))
				continue
			}
			y, err := Parse(path, data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			// holidays-2028.yml saying year: 2027 is a copy not yet
			// edited: it would replace 2027 and leave 2028 without a
			// calendar
			var named int
			if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimSuffix(n, ".yml"), ".yaml"), "holidays-%d", &named); err == nil && named != y.Year {
				errs = append(errs, fmt.Errorf("%s: the file is named for %d but says year: %d: rename it or correct year", path, named, y.Year))
				continue
			}
			if f, dup := from[y.Year]; dup {
				errs = append(errs, fmt.Errorf("%s: year %d is already given by %s: keep one file per year", path, y.Year, f))
				continue
			}
			from[y.Year] = path
			if b := c.years[y.Year]; b != nil && y.Mode == ModeAdd {
				merged := *b
				merged.File = b.File + " + " + path
				merged.Holidays = slices.Clone(b.Holidays)
				for _, h := range y.Holidays {
					if !slices.ContainsFunc(merged.Holidays, func(o Holiday) bool { return o.Date == h.Date }) {
						merged.Holidays = append(merged.Holidays, h)
					}
				}
				merged.Provisional = b.Provisional || y.Provisional
				y = &merged
			}
			c.years[y.Year] = y
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	c.days = map[string]bool{}
	for _, y := range c.years {
		for _, h := range y.Holidays {
			c.days[h.Date] = true
		}
	}
	return c, nil
}

// Has tells whether the calendar lists the year.
func (c *Calendar) Has(year int) bool { return c != nil && c.years[year] != nil }

// Year returns the year's file, nil when the calendar has none.
func (c *Calendar) Year(year int) *Year {
	if c == nil {
		return nil
	}
	return c.years[year]
}

// Years lists the years known, in order.
func (c *Calendar) Years() []int {
	if c == nil {
		return nil
	}
	out := make([]int, 0, len(c.years))
	for y := range c.years {
		out = append(out, y)
	}
	slices.Sort(out)
	return out
}

// IsHoliday tells whether the local date y-m-d is a holiday.
func (c *Calendar) IsHoliday(y int, m time.Month, d int) bool {
	if c == nil {
		return false
	}
	return c.days[fmt.Sprintf("%04d-%02d-%02d", y, int(m), d)]
}
