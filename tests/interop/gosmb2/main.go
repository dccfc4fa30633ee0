// SPDX-License-Identifier: MIT

// gosmb2-interop drives smbx-server with go-smb2 (Debian's
// golang-github-hirochachacha-go-smb2-dev), a client written
// independently of Samba and impacket. For each dialect given it opens a
// new connection and session, then checks against the server's directory
// on disk (-root): ls lists a file seeded on disk with its size; put of
// -size random bytes lands byte-exact on disk; get returns the same bytes;
// rename moves it (old name gone, new name byte-exact); delete removes it;
// mkdir + rmdir. One "ok"/"not ok" line per check; exit 0 only if all pass.
//
// Built offline against /usr/share/gocode (GOPATH mode, GO111MODULE=off),
// see tests/interop/meson.build.
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hirochachacha/go-smb2"
)

// DialectRevision values (MS-SMB2 2.2.3); go-smb2 keeps its names internal.
var dialectCodes = map[string]uint16{
	"2.0.2": 0x0202,
	"2.1":   0x0210,
	"3.0":   0x0300,
	"3.0.2": 0x0302,
	"3.1.1": 0x0311,
}

type checker struct {
	n, fails int
}

func (c *checker) check(ok bool, format string, args ...interface{}) bool {
	c.n++
	what := fmt.Sprintf(format, args...)
	if ok {
		fmt.Printf("ok %d - %s\n", c.n, what)
	} else {
		c.fails++
		fmt.Printf("not ok %d - %s\n", c.n, what)
	}
	return ok
}

// must reports err as a failed check; true when err is nil.
func (c *checker) must(err error, format string, args ...interface{}) bool {
	what := fmt.Sprintf(format, args...)
	if err != nil {
		return c.check(false, "%s: %v", what, err)
	}
	return c.check(true, "%s", what)
}

type config struct {
	addr, share, user, pass, root string
	size                          int
	sign                          bool
}

func dial(cfg *config, dialect string) (net.Conn, *smb2.Session, error) {
	conn, err := net.DialTimeout("tcp", cfg.addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	// bounds every exchange: a hung server fails the run instead of the
	// meson timeout
	conn.SetDeadline(time.Now().Add(120 * time.Second))
	d := &smb2.Dialer{
		Negotiator: smb2.Negotiator{
			RequireMessageSigning: cfg.sign,
			SpecifiedDialect:      dialectCodes[dialect],
		},
		Initiator: &smb2.NTLMInitiator{User: cfg.user, Password: cfg.pass},
	}
	s, err := d.Dial(conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, s, nil
}

func putFile(fs *smb2.Share, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, bytes.NewReader(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != int64(len(data)) {
		err = fmt.Errorf("wrote %d of %d bytes", n, len(data))
	}
	return err
}

func getFile(fs *smb2.Share, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return buf.Bytes(), err
}

func onDiskEqual(path string, want []byte) bool {
	got, err := os.ReadFile(path)
	return err == nil && bytes.Equal(got, want)
}

func absent(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, os.ErrNotExist)
}

func runDialect(c *checker, cfg *config, dialect string, data []byte) {
	tag := strings.ReplaceAll(dialect, ".", "_")
	conn, s, err := dial(cfg, dialect)
	if !c.must(err, "%s: negotiate + NTLMv2 session setup (sign=%v)", dialect, cfg.sign) {
		return
	}
	defer conn.Close()
	fs, err := s.Mount(fmt.Sprintf(`\\%s\%s`, strings.Split(cfg.addr, ":")[0], cfg.share))
	if !c.must(err, "%s: tree connect %s", dialect, cfg.share) {
		s.Logoff()
		return
	}

	seed := []byte("seeded on the server's disk: " + dialect + "\n")
	seedName := "seed_" + tag + ".txt"
	if err := os.WriteFile(filepath.Join(cfg.root, seedName), seed, 0o644); err != nil {
		c.must(err, "%s: seed %s", dialect, seedName)
		return
	}
	infos, err := fs.ReadDir("")
	listed := false
	for _, fi := range infos {
		if fi.Name() == seedName && fi.Size() == int64(len(seed)) && !fi.IsDir() {
			listed = true
		}
	}
	c.check(err == nil && listed, "%s: ls lists %s with its size (%d entries, err %v)",
		dialect, seedName, len(infos), err)
	got, err := getFile(fs, seedName)
	c.check(err == nil && bytes.Equal(got, seed), "%s: get of the seeded file byte-exact (err %v)", dialect, err)
	os.Remove(filepath.Join(cfg.root, seedName))

	name := "put_" + tag + ".bin"
	start := time.Now()
	err = putFile(fs, name, data)
	secs := time.Since(start).Seconds()
	if c.must(err, "%s: put %d bytes (%.1f MB/s)", dialect, len(data), float64(len(data))/1e6/secs) {
		c.check(onDiskEqual(filepath.Join(cfg.root, name), data),
			"%s: the server's file is byte-exact after put", dialect)
	}
	fi, err := fs.Stat(name)
	c.check(err == nil && fi.Size() == int64(len(data)), "%s: stat size %d (err %v)", dialect, len(data), err)

	start = time.Now()
	got, err = getFile(fs, name)
	secs = time.Since(start).Seconds()
	c.check(err == nil && bytes.Equal(got, data), "%s: get %d bytes byte-exact (%.1f MB/s, err %v)",
		dialect, len(got), float64(len(got))/1e6/secs, err)

	renamed := "renamed_" + tag + ".bin"
	if c.must(fs.Rename(name, renamed), "%s: rename %s -> %s", dialect, name, renamed) {
		c.check(absent(filepath.Join(cfg.root, name)) &&
			onDiskEqual(filepath.Join(cfg.root, renamed), data),
			"%s: on disk the old name is gone and the new one is byte-exact", dialect)
	}
	if c.must(fs.Remove(renamed), "%s: delete %s", dialect, renamed) {
		c.check(absent(filepath.Join(cfg.root, renamed)), "%s: deleted on disk", dialect)
	}
	_, err = fs.Stat(renamed)
	c.check(errors.Is(err, os.ErrNotExist), "%s: stat after delete is not-exist (err %v)", dialect, err)

	dir := "dir_" + tag
	if c.must(fs.Mkdir(dir, 0o755), "%s: mkdir %s", dialect, dir) {
		st, err := os.Stat(filepath.Join(cfg.root, dir))
		c.check(err == nil && st.IsDir(), "%s: the directory exists on disk", dialect)
		if c.must(fs.Remove(dir), "%s: rmdir %s", dialect, dir) {
			c.check(absent(filepath.Join(cfg.root, dir)), "%s: directory gone on disk", dialect)
		}
	}

	c.must(fs.Umount(), "%s: tree disconnect", dialect)
	c.must(s.Logoff(), "%s: logoff", dialect)
}

func main() {
	cfg := &config{}
	flag.StringVar(&cfg.addr, "addr", "", "server HOST:PORT")
	flag.StringVar(&cfg.share, "share", "share", "share name")
	flag.StringVar(&cfg.user, "user", "", "NTLMv2 user (go-smb2 has no anonymous logon)")
	flag.StringVar(&cfg.pass, "pass", "", "password")
	flag.StringVar(&cfg.root, "root", "", "the server's --root, checked directly")
	flag.IntVar(&cfg.size, "size", 8<<20, "bytes put and got back")
	flag.BoolVar(&cfg.sign, "sign", false, "require signing")
	dialects := flag.String("dialects", "2.0.2,2.1,3.0,3.0.2,3.1.1", "dialects, one connection each")
	flag.Parse()
	if cfg.addr == "" || cfg.user == "" || cfg.root == "" {
		fmt.Fprintln(os.Stderr, "usage: gosmb2-interop -addr HOST:PORT -user U -pass P -root DIR [-dialects LIST] [-sign] [-size N]")
		os.Exit(2)
	}
	data := make([]byte, cfg.size)
	if _, err := rand.Read(data); err != nil {
		fmt.Fprintln(os.Stderr, "random:", err)
		os.Exit(1)
	}
	c := &checker{}
	for _, d := range strings.Split(*dialects, ",") {
		if _, ok := dialectCodes[d]; !ok {
			fmt.Fprintln(os.Stderr, "unknown dialect", d)
			os.Exit(2)
		}
		runDialect(c, cfg, d, data)
	}
	fmt.Printf("1..%d\n", c.n)
	if c.fails != 0 {
		fmt.Printf("FAIL: %d of %d checks failed\n", c.fails, c.n)
		os.Exit(1)
	}
	fmt.Printf("PASS: %d checks\n", c.n)
}
