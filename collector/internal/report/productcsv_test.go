package report

import (
	"slices"
	"strings"
	"testing"
)

// TestProductTableNames: the names format=csv&table= accepts for a
// product are its tables, in the order the data hash takes them; a
// product's CSV needs a table, and a table of another product is
// refused by name.
func TestProductTableNames(t *testing.T) {
	for _, name := range []string{ProductOPDSheet, ProductReviewPack, ProductAnnual} {
		p := &Product{Product: name, Report: &Report{Lang: LangID}}
		var got []string
		for _, tb := range p.Tables() {
			got = append(got, tb.Name)
		}
		if !slices.Equal(got, ProductTableNames[name]) {
			t.Errorf("%s: tables %v, ProductTableNames %v", name, got, ProductTableNames[name])
		}
		if err := CheckProductTable(name, ""); err == nil || !strings.Contains(err.Error(), "give table=") {
			t.Errorf("%s without a table: %v", name, err)
		}
		if err := CheckProductTable(name, "summary"); err == nil || !strings.Contains(err.Error(), `table "summary" of product `+name) {
			t.Errorf("%s table summary: %v", name, err)
		}
	}
	if err := CheckProductTable(ProductMonthly, ""); err != nil {
		t.Errorf("monthly without a table (links): %v", err)
	}
}
