package apiserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aksid/aksid/internal/apiserver/kassrc"
	"github.com/aksid/aksid/internal/envvar"
)

// BinaryName is the file name kube-apiserver is kept under: the release
// and a digest of the carried module, so a new release or a changed
// wrapper (main.go, go.sum) is built anew.
func BinaryName() (string, error) {
	v, err := kassrc.Version()
	if err != nil {
		return "", err
	}
	return "kube-apiserver-" + v + "-" + kassrc.Digest(), nil
}

// FindBinary returns the kube-apiserver to run, without building: the
// path in $AKSID_KUBE_APISERVER, else the versioned binary in
// <dataDir>/bin, else the one `make deps` puts in Go's bin directory.
// It returns os.ErrNotExist when there is none.
func FindBinary(dataDir string) (string, error) {
	if p := os.Getenv(envvar.KubeAPIServer); p != "" {
		if !executable(p) {
			return "", fmt.Errorf("apiserver: %s=%s is not an executable file", envvar.KubeAPIServer, p)
		}
		return p, nil
	}
	name, err := BinaryName()
	if err != nil {
		return "", err
	}
	dirs := []string{GoBinDir()}
	if dataDir != "" {
		dirs = append([]string{filepath.Join(dataDir, "bin")}, dirs...)
	}
	for _, dir := range dirs {
		if p := filepath.Join(dir, name); dir != "" && executable(p) {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// EnsureBinary finds kube-apiserver or builds it into <dataDir>/bin from
// the module carried in aksid, writing progress to progress: the build
// takes minutes of CPU, once per data directory and release.
func EnsureBinary(ctx context.Context, dataDir string, progress io.Writer) (string, error) {
	p, err := FindBinary(dataDir)
	if !errors.Is(err, os.ErrNotExist) {
		return p, err
	}
	name, err := BinaryName()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dataDir, "bin", name)
	if err := Build(ctx, out, progress); err != nil {
		return "", err
	}
	return out, nil
}

// Build compiles the carried module into out with the go command on PATH.
func Build(ctx context.Context, out string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("apiserver: kube-apiserver is not built and no Go toolchain is on PATH to build it (or set %s): %w", envvar.KubeAPIServer, err)
	}
	src, err := os.MkdirTemp("", "aksid-kube-apiserver-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	for name, b := range kassrc.Files() {
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// Built beside the target and renamed, so a killed build leaves no
	// half-written binary under the name FindBinary looks for.
	tmp := out + ".partial"
	ldflags, err := versionLDFlags()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-v", "-trimpath", "-ldflags="+ldflags, "-o", tmp, ".")
	cmd.Dir = src
	// The module's go.sum pins every dependency; -mod=readonly keeps a
	// build from rewriting it, and workspace files around would not apply.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(progress, "building kube-apiserver %s from k8s.io/kubernetes (a few CPU-minutes, once) into %s\n", filepath.Base(out), out)
	if err := cmd.Start(); err != nil {
		return err
	}
	tail := reportPackages(stderr, progress, start)
	if err := cmd.Wait(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("apiserver: building kube-apiserver: %w\n%s", err, tail)
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(progress, "built kube-apiserver in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// reportPackages reads `go build -v` (one package per line) and writes a
// line every 10 seconds saying how far it got, also while the linker
// runs silently; it returns the last lines for an error message.
func reportPackages(r io.Reader, progress io.Writer, start time.Time) string {
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	defer wg.Wait() // no write to progress after return
	defer close(stop)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(progress, "  … %d packages compiled, %s\n", n.Load(), time.Since(start).Round(time.Second))
			}
		}
	}()
	sc := bufio.NewScanner(r)
	var last []string
	for sc.Scan() {
		line := sc.Text()
		if last = append(last, line); len(last) > 20 {
			last = last[1:]
		}
		if !strings.Contains(line, " ") { // a package path, not an error line
			n.Add(1)
		}
	}
	return strings.Join(last, "\n")
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// GoBinDir is where `make deps` puts tools: $GOPATH/bin, else ~/go/bin
// (Go's default GOPATH), as the Makefile's `go env GOPATH`/bin.
func GoBinDir() string {
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "bin")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "bin")
	}
	return ""
}

// versionLDFlags strips the symbols (a third of the size) and stamps the
// release, as Kubernetes' own build does, so /version and `kubectl
// version` tell it rather than v0.0.0-master.
func versionLDFlags() (string, error) {
	v, err := kassrc.Version()
	if err != nil {
		return "", err
	}
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("apiserver: version %q", v)
	}
	flags := "-s -w"
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags += fmt.Sprintf(" -X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean",
			pkg, v, pkg, parts[0], pkg, parts[1], pkg)
	}
	return flags, nil
}
