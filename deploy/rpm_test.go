package deploy

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// A minimal reader of .rpm files (lead, signature header, header, gzip'd
// cpio payload), enough to check what nfpm wrote without the rpm tools.
// Format: https://rpm-software-management.github.io/rpm/manual/format.html

// RPM header tags and file flags used by the tests.
const (
	rpmTagName              = 1000
	rpmTagVersion           = 1001
	rpmTagRelease           = 1002
	rpmTagArch              = 1022
	rpmTagVendor            = 1011
	rpmTagLicense           = 1014
	rpmTagPackager          = 1015
	rpmTagURL               = 1020
	rpmTagPreIn             = 1023
	rpmTagPostIn            = 1024
	rpmTagPreUn             = 1025
	rpmTagPostUn            = 1026
	rpmTagFileModes         = 1030
	rpmTagFileFlags         = 1037
	rpmTagFileUserName      = 1039
	rpmTagFileGroupName     = 1040
	rpmTagDirIndexes        = 1116
	rpmTagBaseNames         = 1117
	rpmTagDirNames          = 1118
	rpmTagPayloadCompressor = 1125

	rpmFileConfig    = 1 << 0
	rpmFileDoc       = 1 << 1
	rpmFileNoReplace = 1 << 4
	rpmFileGhost     = 1 << 6
)

type rpmEntry struct {
	typ, count uint32
	data       []byte // the store from the entry's offset on
}

type rpmHeader map[uint32]rpmEntry

// rpmFile is one file of the package.
type rpmFile struct {
	Path        string
	Mode        uint16
	Flags       uint32
	User, Group string
}

type rpmPackage struct {
	Header  rpmHeader
	Files   map[string]rpmFile
	Payload map[string][]byte // regular files' contents, by path
}

func readRPM(path string) (*rpmPackage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 96 || !bytes.Equal(b[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, errors.New("not an rpm: no lead")
	}
	off := 96
	_, n, err := readRPMHeader(b[off:])
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	off += n
	off = (off + 7) &^ 7 // the signature header is padded to 8 bytes
	if off > len(b) {
		return nil, errors.New("truncated")
	}
	h, n, err := readRPMHeader(b[off:])
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	off += n
	p := &rpmPackage{Header: h, Files: map[string]rpmFile{}, Payload: map[string][]byte{}}

	base, dirs := h.strings(rpmTagBaseNames), h.strings(rpmTagDirNames)
	idx, flags := h.int32s(rpmTagDirIndexes), h.int32s(rpmTagFileFlags)
	modes, users, groups := h.int16s(rpmTagFileModes), h.strings(rpmTagFileUserName), h.strings(rpmTagFileGroupName)
	if len(idx) != len(base) || len(flags) != len(base) || len(modes) != len(base) || len(users) != len(base) || len(groups) != len(base) {
		return nil, fmt.Errorf("file tags disagree: %d names, %d dir indexes, %d flags, %d modes", len(base), len(idx), len(flags), len(modes))
	}
	for i, name := range base {
		if int(idx[i]) >= len(dirs) {
			return nil, fmt.Errorf("dir index %d out of range", idx[i])
		}
		f := rpmFile{Path: dirs[idx[i]] + name, Mode: modes[i], Flags: flags[i], User: users[i], Group: groups[i]}
		p.Files[f.Path] = f
	}

	if c := h.string(rpmTagPayloadCompressor); c != "gzip" {
		return nil, fmt.Errorf("payload compressor %q: this reader knows gzip only", c)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b[off:]))
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	cpio, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return p, readCpio(cpio, p.Payload)
}

func readRPMHeader(b []byte) (rpmHeader, int, error) {
	if len(b) < 16 || !bytes.Equal(b[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
		return nil, 0, errors.New("bad header magic")
	}
	nindex, hsize := int(binary.BigEndian.Uint32(b[8:])), int(binary.BigEndian.Uint32(b[12:]))
	storeAt := 16 + 16*nindex
	end := storeAt + hsize
	if nindex > 1<<16 || end > len(b) {
		return nil, 0, errors.New("truncated header")
	}
	store := b[storeAt:end]
	h := rpmHeader{}
	for i := 0; i < nindex; i++ {
		e := b[16+16*i:]
		tag, typ := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])
		off, count := int(binary.BigEndian.Uint32(e[8:])), binary.BigEndian.Uint32(e[12:])
		if off > len(store) {
			return nil, 0, fmt.Errorf("tag %d: offset out of range", tag)
		}
		h[tag] = rpmEntry{typ: typ, count: count, data: store[off:]}
	}
	return h, end, nil
}

// Header data types.
const (
	rpmInt16       = 3
	rpmInt32       = 4
	rpmString      = 6
	rpmStringArray = 8
	rpmI18NString  = 9
)

func (h rpmHeader) strings(tag uint32) []string {
	e, ok := h[tag]
	if !ok || (e.typ != rpmStringArray && e.typ != rpmString && e.typ != rpmI18NString) {
		return nil
	}
	var out []string
	d := e.data
	for i := uint32(0); i < e.count; i++ {
		j := bytes.IndexByte(d, 0)
		if j < 0 {
			return out
		}
		out = append(out, string(d[:j]))
		d = d[j+1:]
	}
	return out
}

func (h rpmHeader) string(tag uint32) string {
	if s := h.strings(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (h rpmHeader) int32s(tag uint32) []uint32 {
	e, ok := h[tag]
	if !ok || e.typ != rpmInt32 || len(e.data) < 4*int(e.count) {
		return nil
	}
	out := make([]uint32, e.count)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(e.data[4*i:])
	}
	return out
}

func (h rpmHeader) int16s(tag uint32) []uint16 {
	e, ok := h[tag]
	if !ok || e.typ != rpmInt16 || len(e.data) < 2*int(e.count) {
		return nil
	}
	out := make([]uint16, e.count)
	for i := range out {
		out[i] = binary.BigEndian.Uint16(e.data[2*i:])
	}
	return out
}

// readCpio reads a "newc" cpio archive (070701, or 070702 with checksums)
// into files: path (without a leading ".") -> contents of regular files.
func readCpio(b []byte, files map[string][]byte) error {
	pad := func(n int) int { return (n + 3) &^ 3 }
	off := 0
	for {
		if off+110 > len(b) {
			return errors.New("cpio: truncated")
		}
		h := b[off : off+110]
		if magic := string(h[:6]); magic != "070701" && magic != "070702" {
			return fmt.Errorf("cpio: bad magic %q", magic)
		}
		field := func(i int) (int, error) {
			v, err := strconv.ParseUint(string(h[6+8*i:6+8*i+8]), 16, 32)
			return int(v), err
		}
		mode, err1 := field(1)
		size, err2 := field(6)
		nameSize, err3 := field(11)
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("cpio: %w", err)
		}
		nameAt := off + 110
		if nameAt+nameSize > len(b) || nameSize < 1 {
			return errors.New("cpio: truncated name")
		}
		name := string(b[nameAt : nameAt+nameSize-1])
		dataAt := pad(nameAt + nameSize)
		if name == "TRAILER!!!" {
			return nil
		}
		if dataAt+size > len(b) {
			return errors.New("cpio: truncated data")
		}
		if mode&0o170000 == 0o100000 {
			p := name
			if len(p) > 0 && p[0] == '.' {
				p = p[1:]
			}
			if len(p) == 0 || p[0] != '/' {
				p = "/" + p
			}
			files[p] = b[dataAt : dataAt+size]
		}
		off = pad(dataAt + size)
	}
}
