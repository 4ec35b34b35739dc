// Command buildkas builds kube-apiserver ahead, as aksid would at a
// cluster's first start, into Go's bin directory where aksid looks
// (`make deps` runs it, so tests find the binary and need no build).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aksid/aksid/internal/apiserver"
)

func main() {
	dir := flag.String("dir", "", "directory to build into (default: $GOBIN, else $GOPATH/bin)")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "buildkas:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if dir == "" {
		if p, err := apiserver.FindBinary(""); err == nil {
			fmt.Println(p)
			return nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		dir = apiserver.GoBinDir()
	}
	name, err := apiserver.BinaryName()
	if err != nil {
		return err
	}
	out := filepath.Join(dir, name)
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		fmt.Println(out)
		return nil
	}
	if err := apiserver.Build(context.Background(), out, os.Stderr); err != nil {
		return err
	}
	fmt.Println(out)
	return nil
}
