package backup

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrCorrupt is returned for an archive that is not a whole aksid backup:
// not gzip or tar, cut short, altered, or of an unknown format.
var ErrCorrupt = errors.New("not a complete aksid backup")

// maxEntry bounds one tar entry (a key file, a manifest, a chunk of
// documents), so a damaged size field cannot make a reader allocate
// without limit.
const maxEntry = 1 << 30

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// visitor receives an archive's contents as they are read; either func
// may be nil. A document's slices stay valid after the call.
type visitor struct {
	file func(name string, data []byte) error
	doc  func(kind, key string, value []byte) error
}

// Verify reads the whole archive and checks it: its format and version,
// that it carries exactly the files named in want, that every record is
// whole, and its document count and digest. It writes nothing.
func Verify(r io.Reader, want []File) (Summary, error) {
	return read(r, want, visitor{})
}

// read walks the archive, handing its files and documents to v, and
// checks it as Verify says. v sees the documents before the archive's
// end is checked: callers that write them verify first.
func read(r io.Reader, want []File, v visitor) (Summary, error) {
	gz, err := gzip.NewReader(r)
	if err == io.EOF {
		return Summary{}, corrupt("the file is empty")
	}
	if err != nil {
		return Summary{}, corrupt("not gzip-compressed: %v", readErr(err))
	}
	tr := tar.NewReader(gz)
	digest := sha256.New()
	var sum Summary
	var end *trailer
	seen := map[string]bool{}
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, corrupt("%v", readErr(err))
		}
		if end != nil {
			return Summary{}, corrupt("entry %q after %s", hdr.Name, entryEnd)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size < 0 || hdr.Size > maxEntry {
			return Summary{}, corrupt("unexpected entry %q", hdr.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return Summary{}, corrupt("%s: %v", hdr.Name, readErr(err))
		}
		if i == 0 {
			if hdr.Name != entryMan {
				return Summary{}, corrupt("the first entry is %q, not %s", hdr.Name, entryMan)
			}
			if sum, err = readManifest(b, want); err != nil {
				return Summary{}, err
			}
			continue
		}
		switch name := hdr.Name; {
		case name == entryEnd:
			end = &trailer{}
			if err := json.Unmarshal(b, end); err != nil {
				return Summary{}, corrupt("%s: %v", entryEnd, err)
			}
		case strings.HasPrefix(name, dirFiles):
			base := strings.TrimPrefix(name, dirFiles)
			if !slices.Contains(sum.Files, base) || seen[base] {
				return Summary{}, corrupt("unexpected file %q", name)
			}
			seen[base] = true
			digest.Write(b)
			if v.file != nil {
				if err := v.file(base, b); err != nil {
					return Summary{}, err
				}
			}
		case strings.HasPrefix(name, dirDocuments):
			digest.Write(b)
			n, err := records(name, b, v.doc)
			sum.Documents += n
			if err != nil {
				return Summary{}, err
			}
		default:
			return Summary{}, corrupt("unexpected entry %q", hdr.Name)
		}
	}
	// Reading gzip to its end checks its CRC and length.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return Summary{}, corrupt("%v", readErr(err))
	}
	if sum.Created.IsZero() {
		return Summary{}, corrupt("empty archive")
	}
	if end == nil {
		return Summary{}, corrupt("it ends before %s (cut short?)", entryEnd)
	}
	for _, f := range sum.Files {
		if !seen[f] {
			return Summary{}, corrupt("the file %s is missing", f)
		}
	}
	if end.Documents != sum.Documents || end.SHA256 != hex.EncodeToString(digest.Sum(nil)) {
		return Summary{}, corrupt("its contents do not match its checksum (%d documents read, %d written)", sum.Documents, end.Documents)
	}
	return sum, nil
}

func readManifest(b []byte, want []File) (Summary, error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Format != format {
		return Summary{}, corrupt("%s is not an aksid backup manifest", entryMan)
	}
	if m.Version != version {
		return Summary{}, fmt.Errorf("backup: archive format version %d; this aksid reads version %d", m.Version, version)
	}
	if m.Created.IsZero() {
		return Summary{}, corrupt("%s has no creation time", entryMan)
	}
	var names []string
	for _, f := range want {
		names = append(names, f.Name)
	}
	if !slices.Equal(slices.Sorted(slices.Values(m.Files)), slices.Sorted(slices.Values(names))) {
		return Summary{}, fmt.Errorf("backup: the archive carries the files %q; this aksid expects %q", m.Files, names)
	}
	return Summary{Created: m.Created, Store: m.Store, Files: m.Files}, nil
}

// records parses the chunk of document records named entry, handing each
// to fn when it is not nil, and returns how many it read.
func records(entry string, b []byte, fn func(kind, key string, value []byte) error) (int64, error) {
	var n int64
	for len(b) > 0 {
		var parts [3][]byte
		for i := range parts {
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return n, corrupt("%s: record %d is damaged", entry, n+1)
			}
			parts[i], b = b[k:k+int(l)], b[k+int(l):]
		}
		n++
		if fn != nil {
			if err := fn(string(parts[0]), string(parts[1]), parts[2]); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// readErr names a read error the way a user thinks of it.
func readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("it ends too early (cut short?)")
	}
	return err
}
