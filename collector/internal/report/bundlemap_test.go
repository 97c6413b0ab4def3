package report

import (
	"strings"
	"testing"
)

func TestBundleMapShipped(t *testing.T) {
	m, err := BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, b := range m {
		nums = append(nums, b.Indicator.Number)
	}
	// spbe.yml's bundle block, in its order.
	if want := []int{16, 17, 18, 24, 28, 29}; len(nums) != len(want) || nums[0] != 16 || nums[5] != 29 {
		t.Errorf("indicators %v, want %v", nums, want)
	}
	if m[1].Indicator.Name != "Layanan Jaringan Intra" || m[1].Products[0].Product != "monthly" {
		t.Errorf("indicator 17: %+v", m[1])
	}
}

func TestBundleMapErrors(t *testing.T) {
	head := "indicators:\n  - {number: 17, name: Layanan Jaringan Intra, aspect: TIK}\nbundle:\n"
	for body, want := range map[string]string{
		"  - {indicator: 99, products: []}\n":                                    "bundle names indicator 99, which is not listed",
		"  - {indicator: 17}\n  - {indicator: 17}\n":                             "lists indicator 17 twice",
		"  - {indicator: 17, products: [{product: weekly, formats: [pdf]}]}\n":   `unknown product "weekly"`,
		"  - {indicator: 17, products: [{product: monthly, formats: [docx]}]}\n": `product monthly: unknown format "docx"`,
		"  - {indicator: 17, records: [photos]}\n":                               `unknown record kind "photos"`,
		"  - {indicator: [17]}\n":                                                "read spbe.yml",
	} {
		_, err := bundleMap([]byte(head + body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
