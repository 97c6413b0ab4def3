package httpapi

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// The evidence types the collector accepts and serves (docs/api.md). The
// type is decided by the file's content; its name's extension, when it
// has one, must agree.
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeText = "text/plain; charset=utf-8"
	TypeCSV  = "text/csv; charset=utf-8"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

// extTypes are the file name extensions accepted, and the type each
// must have.
var extTypes = map[string]string{
	".pdf": TypePDF, ".png": TypePNG, ".jpg": TypeJPEG, ".jpeg": TypeJPEG,
	".txt": TypeText, ".log": TypeText, ".csv": TypeCSV, ".xlsx": TypeXLSX, ".docx": TypeDOCX,
}

// typeExt is the extension given to a file uploaded without a name.
var typeExt = map[string]string{
	TypePDF: ".pdf", TypePNG: ".png", TypeJPEG: ".jpg", TypeText: ".txt", TypeCSV: ".csv", TypeXLSX: ".xlsx", TypeDOCX: ".docx",
}

// ErrEvidenceType is a file whose type is not allowed.
var ErrEvidenceType = errors.New("file type not allowed")

// maxZipEntries bounds the directory of an XLSX or DOCX looked at.
const maxZipEntries = 10000

// ClassifyEvidence decides an evidence file's type from its content (the
// first bytes, and for XLSX and DOCX the zip directory) and checks its
// name's extension agrees. Allowed: PDF, PNG, JPEG, UTF-8 plain text and
// CSV without markup or a script's #! line, and XLSX and DOCX without
// macros. Everything else, HTML and SVG above all, is ErrEvidenceType.
func ClassifyEvidence(name string, r io.ReaderAt, size int64) (string, error) {
	head := make([]byte, min(size, 512))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the file: %w", err)
	}
	var typ string
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		typ = TypePDF
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		typ = TypePNG
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		typ = TypeJPEG
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		t, err := officeType(r, size)
		if err != nil {
			return "", err
		}
		typ = t
	case strings.HasPrefix(http.DetectContentType(head), "text/plain"):
		if err := plainText(r, size); err != nil {
			return "", err
		}
		typ = TypeText
		if strings.EqualFold(filepath.Ext(name), ".csv") {
			typ = TypeCSV
		}
	default:
		return "", fmt.Errorf("%w: the content is %s; allowed are PDF, PNG, JPEG, plain text, CSV, XLSX and DOCX",
			ErrEvidenceType, http.DetectContentType(head))
	}
	if name == "" {
		return typ, nil
	}
	ext := strings.ToLower(filepath.Ext(name))
	want, ok := extTypes[ext]
	switch {
	case !ok:
		return "", fmt.Errorf("%w: file name %q: the extension must be one of %s", ErrEvidenceType, clipParam(name), allowedExts())
	case want != typ:
		return "", fmt.Errorf("%w: file name %q says %s but the content is %s", ErrEvidenceType, clipParam(name), want, typ)
	}
	return typ, nil
}

func allowedExts() string {
	var exts []string
	for e := range extTypes {
		exts = append(exts, e)
	}
	slices.Sort(exts)
	return strings.Join(exts, " ")
}

// officeType tells an XLSX from a DOCX by the zip's directory; other
// zips, and documents with macros, are refused.
func officeType(r io.ReaderAt, size int64) (string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("%w: a zip file that cannot be read (%v); allowed zips are XLSX and DOCX", ErrEvidenceType, err)
	}
	if len(zr.File) > maxZipEntries {
		return "", fmt.Errorf("%w: a zip of %d entries is not an office document", ErrEvidenceType, len(zr.File))
	}
	var types, xlsx, docx bool
	for _, f := range zr.File {
		n := strings.ToLower(f.Name)
		switch {
		case n == "[content_types].xml":
			types = true
		case n == "xl/workbook.xml":
			xlsx = true
		case n == "word/document.xml":
			docx = true
		case strings.HasSuffix(n, "vbaproject.bin") || strings.HasSuffix(n, ".bin") && strings.Contains(n, "activex"):
			return "", fmt.Errorf("%w: the document contains macros or ActiveX (%s); save it as a plain .xlsx or .docx", ErrEvidenceType, f.Name)
		}
	}
	switch {
	case types && xlsx && !docx:
		return TypeXLSX, nil
	case types && docx && !xlsx:
		return TypeDOCX, nil
	}
	return "", fmt.Errorf("%w: a zip file that is neither an XLSX nor a DOCX document", ErrEvidenceType)
}

// plainText checks a text file: UTF-8, no control characters but tab,
// newline, carriage return and form feed, no script's #! line, and no
// markup (a '<' followed by a letter, '!', '?' or '/'), so that no
// browser or viewer could take it for HTML, SVG or XML.
func plainText(r io.ReaderAt, size int64) error {
	b := make([]byte, size)
	if _, err := r.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the file: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: text that is not UTF-8", ErrEvidenceType)
	}
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("#!")) {
		return fmt.Errorf("%w: a script (it starts with #!)", ErrEvidenceType)
	}
	for i, c := range b {
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f', c == 0x7f:
			return fmt.Errorf("%w: text with a control character (byte %d)", ErrEvidenceType, i)
		case c == '<' && i+1 < len(b):
			n := b[i+1]
			if n >= 'a' && n <= 'z' || n >= 'A' && n <= 'Z' || n == '!' || n == '?' || n == '/' {
				return fmt.Errorf("%w: text with markup at byte %d (HTML, SVG and XML are refused)", ErrEvidenceType, i)
			}
		}
	}
	return nil
}

// cleanFilename keeps the last element of a caller's file name, without
// control characters, at most 200 bytes.
func cleanFilename(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || r == '"' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > 200 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	if s == "." || s == ".." {
		return ""
	}
	return s
}

// multipartSlack is what a multipart body may hold besides the file.
const multipartSlack = 64 << 10

type evidenceOut struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Filename    string `json:"filename"`
	Duplicate   bool   `json:"duplicate"`
}

func (rc *Records) evidenceDir() string { return filepath.Join(rc.o.DataDir, "evidence") }

func (rc *Records) uploadEvidence(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	refuse := func(status int, reason, msg string) {
		rc.refused.WithLabelValues(reason).Inc()
		writeError(w, status, msg)
	}
	limit := rc.maxEvidence.Load()
	tooLarge := fmt.Sprintf("the evidence file is larger than %d bytes (auth.max_evidence_bytes in collector.yml)", limit)
	name, err := query(r, "filename", "")
	if err != nil {
		refuse(http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	multi := mt == "multipart/form-data"
	bodyLimit := limit
	if multi {
		bodyLimit += multipartSlack
	}
	if r.ContentLength > bodyLimit {
		refuse(http.StatusRequestEntityTooLarge, "too_large", tooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
	if !multi {
		rc.storeEvidence(w, r, p, name, r.Body, limit, tooLarge, refuse, nil)
		return
	}
	reader, err := r.MultipartReader()
	if err != nil {
		refuse(http.StatusBadRequest, "bad_request", fmt.Sprintf("multipart body: %v", err))
		return
	}
	part, err := nextFilePart(reader)
	switch {
	case isTooLarge(err):
		refuse(http.StatusRequestEntityTooLarge, "too_large", tooLarge)
		return
	case errors.Is(err, io.EOF):
		refuse(http.StatusBadRequest, "bad_request", "multipart body: no file part (send the file as a part with a filename)")
		return
	case err != nil:
		refuse(http.StatusBadRequest, "bad_request", fmt.Sprintf("multipart body: %v", err))
		return
	}
	if name == "" {
		name = part.FileName()
	}
	// One file per upload: after the first, the body may hold only
	// other form fields.
	rest := func() error {
		_, err := nextFilePart(reader)
		switch {
		case err == nil:
			return errors.New("multipart body: one file per upload")
		case errors.Is(err, io.EOF):
			return nil
		case isTooLarge(err):
			return err
		}
		return fmt.Errorf("multipart body: %w", err)
	}
	rc.storeEvidence(w, r, p, name, part, limit, tooLarge, refuse, rest)
}

// nextFilePart returns the next part that is a file (has a file name),
// skipping other form fields; io.EOF when there is none.
func nextFilePart(mr *multipart.Reader) (*multipart.Part, error) {
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		if part.FileName() != "" {
			return part, nil
		}
		if _, err := io.Copy(io.Discard, io.LimitReader(part, multipartSlack)); err != nil {
			return nil, err
		}
	}
}

// storeEvidence reads at most limit bytes of src into a temporary file
// while hashing it, checks its type, and moves it to evidence/<sha256>.
// rest, when not nil, checks what follows the file in the body.
func (rc *Records) storeEvidence(w http.ResponseWriter, r *http.Request, p *auth.Principal, name string, src io.Reader, limit int64,
	tooLarge string, refuse func(int, string, string), rest func() error) {
	name = cleanFilename(name)
	dir := rc.evidenceDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		rc.storeError(w, "creating the evidence directory", fmt.Errorf("create %s: %w", dir, err))
		return
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		rc.storeError(w, "storing the evidence file", fmt.Errorf("create a file in %s: %w", dir, err))
		return
	}
	renamed := false
	defer func() {
		tmp.Close()
		if !renamed {
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(src, limit+1))
	switch {
	case isTooLarge(err) || n > limit:
		refuse(http.StatusRequestEntityTooLarge, "too_large", tooLarge)
		return
	case err != nil:
		refuse(http.StatusBadRequest, "bad_request", fmt.Sprintf("reading the upload failed: %v", err))
		return
	case n == 0:
		refuse(http.StatusBadRequest, "bad_request", "the evidence file is empty")
		return
	}
	if rest != nil {
		if err := rest(); err != nil {
			if isTooLarge(err) {
				refuse(http.StatusRequestEntityTooLarge, "too_large", tooLarge)
				return
			}
			refuse(http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	typ, err := ClassifyEvidence(name, tmp, n)
	if err != nil {
		refuse(http.StatusUnsupportedMediaType, "type", err.Error())
		return
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if name == "" {
		name = "evidence-" + sha[:12] + typeExt[typ]
	}
	if err := tmp.Sync(); err != nil {
		rc.storeError(w, "storing the evidence file", fmt.Errorf("sync %s: %w", tmp.Name(), err))
		return
	}
	final := filepath.Join(dir, sha)
	if err := os.Rename(tmp.Name(), final); err != nil {
		rc.storeError(w, "storing the evidence file", fmt.Errorf("rename to %s: %w", final, err))
		return
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		rc.storeError(w, "storing the evidence file", err)
		return
	}
	e := statedb.Evidence{SHA256: sha, Size: n, ContentType: typ, Filename: name, Uploaded: rc.o.Now(), UploadedBy: p.String()}
	added, err := rc.o.DB.AddEvidence(r.Context(), e)
	if err != nil {
		rc.storeError(w, "recording the evidence file", err)
		return
	}
	if !added {
		if e, err = rc.o.DB.EvidenceFile(r.Context(), sha); err != nil {
			rc.storeError(w, "reading the evidence file", err)
			return
		}
	}
	out := evidenceOut{SHA256: sha, Size: e.Size, ContentType: e.ContentType, Filename: e.Filename, Duplicate: !added}
	after := any(out)
	if !added {
		after = "unchanged: already stored"
	}
	if !rc.audit(w, r, "evidence/"+sha, nil, after) {
		return
	}
	status := http.StatusCreated
	if !added {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func (rc *Records) serveEvidence(w http.ResponseWriter, r *http.Request) {
	p, ok := principal(w, r)
	if !ok {
		return
	}
	sha, err := ParseSHA256(r.PathValue("sha256"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	e, err := rc.o.DB.EvidenceFile(r.Context(), sha)
	if errors.Is(err, statedb.ErrNoEvidence) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no evidence file %s", sha))
		return
	}
	if err != nil {
		rc.storeError(w, "reading the evidence file", err)
		return
	}
	if p.Scoped() && e.UploadedBy != p.String() {
		scopes, err := rc.o.DB.EvidenceScopes(r.Context(), sha)
		if err != nil {
			rc.storeError(w, "reading the evidence file", err)
			return
		}
		if !slices.ContainsFunc(scopes, p.Sees) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("evidence file %s is not the evidence of a follow-up item of %s, nor uploaded by %s",
				sha, strings.Join(p.OPDs, ", "), p))
			return
		}
	}
	f, err := os.Open(filepath.Join(rc.evidenceDir(), sha))
	if err != nil {
		rc.o.Logger.Error("an evidence file is missing", "sha256", sha, "err", err)
		writeError(w, http.StatusNotFound, fmt.Sprintf("evidence file %s is on record but missing from the data directory: restore %s from a backup",
			sha, filepath.Join("evidence", sha)))
		return
	}
	defer f.Close()
	typ := e.ContentType
	if _, ok := typeExt[typ]; !ok {
		typ = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", e.Uploaded, f)
}
