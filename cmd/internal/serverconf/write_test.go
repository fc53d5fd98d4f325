package serverconf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/backup"
)

var writeTime = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func testFiles(t *testing.T) []File {
	t.Helper()
	files, err := Deployment(Spec{}, NewUsers(redsafe.Production), ComposeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// assertWritten checks every file's content and mode, and the modes of the
// directories, with os.Stat. An existing deployment directory keeps its mode
// (it may be the operator's own), so its mode is checked only if Write
// created it; secrets/ is always 0700.
func assertWritten(t *testing.T, dir string, created bool, files []File, written []Written) {
	t.Helper()
	if len(written) != len(files) {
		t.Fatalf("wrote %d of %d files", len(written), len(files))
	}
	for i, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		want := PublicFileMode
		if f.Secret {
			want = 0o600
		}
		if written[i].Path != p || written[i].Mode != want {
			t.Errorf("Written[%d] = %+v, want %s mode %v", i, written[i], p, want)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", f.Name, fi.Mode(), want)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != string(f.Data) {
			t.Errorf("%s: content differs (%v)", f.Name, err)
		}
	}
	dirs := []string{filepath.Join(dir, SecretsDirName)}
	if created {
		dirs = append(dirs, dir)
	}
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != DirMode {
			t.Errorf("%s: mode %v, want %v", d, fi.Mode().Perm(), DirMode)
		}
	}
}

func TestWriteNew(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "deploy", "redis")
	files := testFiles(t)
	written, err := Write(dir, files, false, writeTime)
	if err != nil {
		t.Fatal(err)
	}
	assertWritten(t, dir, true, files, written)
	for _, w := range written {
		if w.Backup != "" {
			t.Errorf("%s: backup %q of a file that did not exist", w.Path, w.Backup)
		}
	}
	want := []string{".", SecretsDirName}
	for _, f := range files {
		want = append(want, f.Name)
	}
	slices.Sort(want)
	if names := listDir(t, dir); !slices.Equal(names, want) {
		t.Errorf("the directory holds %q, want %q", names, want)
	}
}

// TestWriteRefusesExisting: one existing file stops everything; nothing is
// written, moved or changed.
func TestWriteRefusesExisting(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		create func(t *testing.T, p string)
	}{
		{"file", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, p string) {
			if err := os.Symlink(filepath.Join(filepath.Dir(p), "nowhere"), p); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, SecretsDirName), 0o700); err != nil {
				t.Fatal(err)
			}
			existing := []string{filepath.Join(dir, ACLFileName), filepath.Join(dir, SecretsDirName, "app.password")}
			for _, p := range existing {
				tt.create(t, p)
			}
			before := listDir(t, dir)
			files := testFiles(t)
			written, err := Write(dir, files, false, writeTime)
			var ee *backup.ExistsError
			if !errors.As(err, &ee) {
				t.Fatalf("Write = %v, %v; want a *backup.ExistsError", written, err)
			}
			if !slices.Equal(ee.Paths, existing) {
				t.Errorf("ExistsError.Paths = %q, want %q", ee.Paths, existing)
			}
			if written != nil {
				t.Errorf("Written %v", written)
			}
			if after := listDir(t, dir); !slices.Equal(before, after) {
				t.Errorf("the directory changed:\nbefore %q\nafter  %q", before, after)
			}
			if tt.name == "file" {
				if b, _ := os.ReadFile(existing[0]); string(b) != "old" {
					t.Errorf("the existing file was changed: %q", b)
				}
			}
			if err.Error() != "already exist: "+existing[0]+", "+existing[1] {
				t.Errorf("message %q", err)
			}
		})
	}
}

// TestWriteReplace: with replace, every existing file is moved to a
// timestamped backup first, with its content and mode, and never
// overwritten: a second replace in the same second gets its own backup.
func TestWriteReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := testFiles(t)
	if _, err := Write(dir, first, false, writeTime); err != nil {
		t.Fatal(err)
	}
	second := testFiles(t) // new passwords, so every secret file differs
	written, err := Write(dir, second, true, writeTime)
	if err != nil {
		t.Fatal(err)
	}
	assertWritten(t, dir, false, second, written)
	third := testFiles(t)
	written3, err := Write(dir, third, true, writeTime)
	if err != nil {
		t.Fatal(err)
	}
	assertWritten(t, dir, false, third, written3)
	for i, f := range first {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		for _, b := range []struct {
			got, want string
			data      []byte
		}{
			{written[i].Backup, p + ".bak-20261123-093000", f.Data},
			{written3[i].Backup, p + ".bak-20261123-093000.1", second[i].Data},
		} {
			if b.got != b.want {
				t.Errorf("backup of %s = %q, want %q", f.Name, b.got, b.want)
				continue
			}
			data, err := os.ReadFile(b.got)
			if err != nil || string(data) != string(b.data) {
				t.Errorf("%s: backup content lost (%v)", b.got, err)
			}
			fi, err := os.Stat(b.got)
			want := PublicFileMode
			if f.Secret {
				want = 0o600
			}
			if err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: backup mode %v, want %v", b.got, fi.Mode(), want)
			}
		}
	}
	// A file that is not there yet is simply created.
	extra := []File{{Name: "secrets/extra.password", Data: []byte("x\n"), Secret: true}}
	w, err := Write(dir, extra, true, writeTime)
	if err != nil || len(w) != 1 || w[0].Backup != "" {
		t.Fatalf("Write(new file, replace) = %+v, %v", w, err)
	}
}

// TestWriteTightensSecretsDir: a secrets directory that someone created
// with a wide mode is narrowed to 0700 before secrets go into it.
func TestWriteTightensSecretsDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := filepath.Join(dir, SecretsDirName)
	if err := os.Mkdir(secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := testFiles(t)
	written, err := Write(dir, files, false, writeTime)
	if err != nil {
		t.Fatal(err)
	}
	assertWritten(t, dir, false, files, written)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}
