package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ProductTableNames are the tables of each product other than monthly,
// in the order of Product.Tables (the monthly report's are TableNames):
// what `product=P&format=csv&table=NAME` serves and the data hash of
// the product's approval sheet covers.
var ProductTableNames = map[string][]string{
	ProductOPDSheet:   {"identity", "sheet_links", "sheet_outages", "sheet_capacity", "sheet_quality", "sheet_daily"},
	ProductReviewPack: {"trends", "link_months", "reviews", "followups", "open_items", "recommendations"},
	ProductAnnual:     {"trends", "link_months", "p95_months", "capacity_plan"},
}

// CheckProductTable refuses a CSV table a product does not have; the
// monthly report's are TableNames. A product other than monthly has no
// default table: its CSV is one table, named.
func CheckProductTable(product, table string) error {
	names, ok := ProductTableNames[product]
	if !ok {
		if table != "" && !slices.Contains(TableNames, table) {
			return fmt.Errorf("table %q: want one of %s", ClipValue(table), strings.Join(TableNames, ", "))
		}
		return nil
	}
	if table == "" {
		return fmt.Errorf("product %s as CSV is one table at a time: give table= one of %s", product, strings.Join(names, ", "))
	}
	if !slices.Contains(names, table) {
		return fmt.Errorf("table %q of product %s: want one of %s", ClipValue(table), product, strings.Join(names, ", "))
	}
	return nil
}

// Table returns one of the product's tables by name.
func (p *Product) Table(name string) (Table, error) {
	if p.Product == ProductMonthly || p.Product == "" {
		return p.Report.Table(name)
	}
	for _, t := range p.Tables() {
		if t.Name == name {
			return t, nil
		}
	}
	return Table{}, fmt.Errorf("product %s has no table %q (want one of %s)", p.Product, name, strings.Join(ProductTableNames[p.Product], ", "))
}

// RenderProductCSV writes one table of a product as CSV in a CSV locale
// (RenderCSV for the monthly report).
func RenderProductCSV(w io.Writer, p *Product, table, locale string) error {
	if p.Product == ProductMonthly || p.Product == "" {
		return RenderCSV(w, p.Report, table, locale)
	}
	t, err := p.Table(table)
	if err != nil {
		return err
	}
	return writeCSVIn(w, t, locale)
}

// writeCSVIn writes a table as CSV in a CSV locale.
func writeCSVIn(w io.Writer, t Table, locale string) error {
	if locale == CSVLocaleID {
		return WriteCSVID(w, t)
	}
	return WriteCSV(w, t)
}

// ProductDataHash is DataHash over a product's own tables (Tables, in
// the order of ProductTableNames); for the monthly report it is
// DataHash.
func ProductDataHash(p *Product) (string, error) {
	h := sha256.New()
	for _, t := range p.Tables() {
		if err := WriteCSV(h, t); err != nil {
			return "", fmt.Errorf("hash table %s of %s: %w", t.Name, p.Product, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ProductHashMethod is HashMethod for a product other than monthly.
func ProductHashMethod(product string) string {
	names, ok := ProductTableNames[product]
	if !ok {
		return HashMethod
	}
	return "SHA-256 over the concatenated CSV of every table of the product in order (" + strings.Join(names, ", ") +
		"), each as GET /api/v1/report?product=" + product + "&format=csv&table=NAME returns it (same period, scope and lang)"
}

// ApproveProduct is Approve for a product: the sheet names the product
// (s.Product is set from it), its data hash covers the product's own
// tables (ProductDataHash), and p.Approval is set with p.Report's.
func ApproveProduct(ctx context.Context, p *Product, s ApprovalSetup, iss NumberIssuer) error {
	s.Product = p.Product
	if err := Approve(ctx, p.Report, s, iss); err != nil {
		return err
	}
	if _, ok := ProductTableNames[p.Product]; ok {
		hash, err := ProductDataHash(p)
		if err != nil {
			return err
		}
		p.Report.Approval.DataSHA256, p.Report.Approval.HashMethod = hash, ProductHashMethod(p.Product)
	}
	p.Approval = p.Report.Approval
	return nil
}
