// Command gen writes Pantau's Grafana dashboards (package dashboards) as
// JSON files into the dashboards directory:
//
//	go run ./dashboards/gen            (from the repository root)
//	go generate ./dashboards
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pantau-noc/pantau/dashboards"
)

func main() {
	dir := flag.String("out", defaultDir(), "directory to write the dashboard JSON files to")
	flag.Parse()
	files, err := dashboards.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(*dir, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", p)
	}
}

// defaultDir is the dashboards directory: the working directory under go
// generate, else ./dashboards (go run from the repository root).
func defaultDir() string {
	if _, err := os.Stat("grafana.go"); err == nil {
		return "."
	}
	return "dashboards"
}
