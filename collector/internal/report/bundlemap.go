package report

import (
	"fmt"
	"io"
	"slices"

	"github.com/xuri/excelize/v2"
	"go.yaml.in/yaml/v3"
)

// BundleProducts are the products the evidence bundle knows, and
// BundleFormats the formats; BundleRecords are the kinds of records an
// indicator's folder may hold besides products.
var (
	BundleProducts = []string{"monthly", "opd-sheet", "review-pack", "annual"}
	BundleFormats  = []string{"pdf", "html", "xlsx", "csv", "json"}
	BundleRecords  = []string{"reviews", "assets", "methods"}
)

// BundleProduct is one product of an indicator's folder and its formats.
type BundleProduct struct {
	Product string   `yaml:"product" json:"product"`
	Formats []string `yaml:"formats" json:"formats"`
}

// BundleIndicator is what the evidence bundle puts in an indicator's
// folder (spbe.yml, bundle).
type BundleIndicator struct {
	Indicator Indicator       `json:"indicator"`
	Products  []BundleProduct `json:"products"`
	Records   []string        `json:"records"`
}

// BundleMap reads the bundle block of spbe.yml, in its order, checking
// that each indicator is listed once and each product, format and record
// kind is known.
func BundleMap() ([]BundleIndicator, error) { return bundleMap(spbeYAML) }

func bundleMap(src []byte) ([]BundleIndicator, error) {
	var m struct {
		Indicators []Indicator `yaml:"indicators"`
		Bundle     []struct {
			Indicator int             `yaml:"indicator"`
			Products  []BundleProduct `yaml:"products"`
			Records   []string        `yaml:"records"`
		} `yaml:"bundle"`
	}
	if err := yaml.Unmarshal(src, &m); err != nil {
		return nil, fmt.Errorf("read spbe.yml: %w", err)
	}
	byNum := map[int]Indicator{}
	for _, in := range m.Indicators {
		byNum[in.Number] = in
	}
	seen := map[int]bool{}
	var out []BundleIndicator
	for _, b := range m.Bundle {
		in, ok := byNum[b.Indicator]
		if !ok {
			return nil, fmt.Errorf("spbe.yml: bundle names indicator %d, which is not listed under indicators", b.Indicator)
		}
		if seen[b.Indicator] {
			return nil, fmt.Errorf("spbe.yml: bundle lists indicator %d twice", b.Indicator)
		}
		seen[b.Indicator] = true
		for _, p := range b.Products {
			if !slices.Contains(BundleProducts, p.Product) {
				return nil, fmt.Errorf("spbe.yml: bundle, indicator %d: unknown product %q (want one of %v)", b.Indicator, p.Product, BundleProducts)
			}
			for _, f := range p.Formats {
				if !slices.Contains(BundleFormats, f) {
					return nil, fmt.Errorf("spbe.yml: bundle, indicator %d, product %s: unknown format %q (want one of %v)", b.Indicator, p.Product, f, BundleFormats)
				}
			}
		}
		for _, r := range b.Records {
			if !slices.Contains(BundleRecords, r) {
				return nil, fmt.Errorf("spbe.yml: bundle, indicator %d: unknown record kind %q (want one of %v)", b.Indicator, r, BundleRecords)
			}
		}
		out = append(out, BundleIndicator{Indicator: in, Products: b.Products, Records: b.Records})
	}
	return out, nil
}

// WriteTableXLSX writes one table as a workbook of one sheet (the
// evidence bundle's asset register), styled as the report's sheets in
// lang's formats.
func WriteTableXLSX(w io.Writer, t Table, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newXLSXStyles(f, lang)
	if err != nil {
		return err
	}
	name := sheetNames([]Table{t})[0]
	if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
		return fmt.Errorf("xlsx sheet %q: %w", name, err)
	}
	if err := writeSheet(f, name, t, st); err != nil {
		return fmt.Errorf("xlsx sheet %q: %w", name, err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
