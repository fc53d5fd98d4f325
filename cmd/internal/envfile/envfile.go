// Package envfile reads and writes env files in the one strict format that
// POSIX sh (`set -a; . FILE; set +a`), docker compose's env_file (compose-go
// dotenv) and systemd's EnvironmentFile= all read the same way, byte for byte:
//
//   - Every byte is printable ASCII (space to ~) or a line feed: no tab, no
//     carriage return (CRLF line endings), no NUL, nothing outside ASCII.
//   - A line is empty, a comment, or an assignment. Nothing may precede it:
//     no whitespace, no `export `.
//   - A comment starts with # and does not end with a backslash.
//   - An assignment is NAME=VALUE, with NAME of letters, digits and _, not
//     starting with a digit, assigned once in the file, not starting with
//     "export", and not one the shells keep for themselves (shellSpecial:
//     UID, _, RANDOM, OPTIND, PS1, BASH*, zsh's path, ...).
//   - VALUE is either 'TEXT', where TEXT is any printable ASCII except ' and
//     \, or a bare run of A-Z a-z 0-9 _ @ % + = : , . / - (possibly empty)
//     that does not start with = nor hold :=. Nothing follows it, not even
//     a space.
//
// Why each rule, from the three parsers:
//
//   - sh (POSIX Shell Command Language 2.2.2, 2.9.1): single quotes keep
//     every character but ' literally, so $(…), `…`, $HOME and ; inside them
//     are text. Unquoted, $ ` ; & | < > ( ) space " \ run or expand something,
//     and ~ is tilde-expanded after = and : in an assignment; the bare set
//     holds none of them. A CR is part of the word, so CRLF puts "\r" at the
//     end of the value. A line `export A=…` works only in sh. zsh (and
//     bash, dash and busybox sh for a few names) also gives some names a
//     meaning of its own, whatever the quoting: see shellSpecial. zsh
//     replaces an unquoted =cmd, at the start of a value or after a :, with
//     the command's path.
//   - compose-go dotenv (dotenv/parser.go): in single quotes a \ escapes the
//     next character (so \' does not end the value) and nothing else
//     happens; double quotes expand \n, \$ and ${VAR}; unquoted values are
//     cut at " #" (older releases: at any #), right-trimmed and ${VAR}/$VAR
//     expanded; `export ` is stripped (before v1.6.0, in docker compose v2
//     releases of 2021-2022, without requiring the space: exportA=1 sets
//     A); CR counts as a space. None of this touches a value without ' \ $ # or whitespace.
//   - systemd (src/basic/env-file.c, parse_env_file_internal, and
//     load_env_file_push, which expands nothing): single quotes are literal
//     up to the next ' (no escapes); unquoted values process \ escapes and
//     drop trailing whitespace; CR ends a line; NUL ends the file; a comment
//     ending in \ swallows the next line before v254 (seen with systemd 252);
//     `export ` is not stripped, so `export A` is an invalid name and the
//     line is dropped; values must be valid UTF-8.
//
// Every one of those differences needs a byte this format refuses.
package envfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// maxSize bounds what Read and Parse accept; an env file is a few hundred bytes.
const maxSize = 1 << 20

// maxLine bounds one line. Every value redsafe writes is far shorter (a
// URL, a path, a key); a longer one is a pasted blob, and past 128 KiB
// Linux refuses to pass the variable to any program started afterwards.
const maxLine = 8 << 10

// bareChars are the characters a value may hold without quotes.
const bareChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-"

// Parse reads r, which must be in the format of the package comment.
// Errors name the line and, when it is a valid one, the variable, but never
// quote a value, which may be a secret.
func Parse(r io.Reader) (map[string]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("larger than %d bytes: not an env file", maxSize)
	}
	vars := map[string]string{}
	seen := map[string]int{}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return vars, nil
	}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		name, value, err := parseLine(line)
		if err != nil {
			if name != "" {
				return nil, fmt.Errorf("line %d (%s): %w (the format: README, \"Env files\")", n, name, err)
			}
			return nil, fmt.Errorf("line %d: %w (the format: README, \"Env files\")", n, err)
		}
		if name == "" {
			continue
		}
		if first, dup := seen[name]; dup {
			return nil, fmt.Errorf("line %d (%s): already set on line %d; keep one assignment (every reader takes the last, which is easy to miss)", n, name, first)
		}
		seen[name] = n
		vars[name] = value
	}
	return vars, nil
}

// Read parses the file at path. An env file holds the password and the
// encryption key, so it is read as the secret file it is: private to its
// owner (this user or root), in a directory nobody else can replace it in,
// as internal/secretfile checks; links are followed, as for every file a
// deployment names.
func Read(path string) (map[string]string, error) {
	data, err := secretfile.Read(path, secretfile.Named)
	if err != nil {
		return nil, err
	}
	vars, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vars, nil
}

// parseLine returns the assignment on line, or "" for a blank line or a
// comment. On an error, name is set only once it is known to be valid.
func parseLine(line string) (name, value string, err error) {
	if line == "" {
		return "", "", nil
	}
	if len(line) > maxLine {
		return "", "", fmt.Errorf("longer than %d bytes; no value redsafe reads is that long", maxLine)
	}
	if line[0] == '#' {
		if err := checkBytes(line); err != nil {
			return "", "", err
		}
		if strings.HasSuffix(line, `\`) {
			return "", "", errors.New(`a comment ends with a backslash, which makes systemd before v254 skip the next line; remove it`)
		}
		return "", "", nil
	}
	if strings.HasPrefix(line, "export ") {
		return "", "", errors.New("`export ` is not accepted: systemd's EnvironmentFile does not strip it and drops the line; remove it (set -a already exports every variable)")
	}
	if line[0] == ' ' || line[0] == '\t' {
		return "", "", errors.New("whitespace before the name; remove it")
	}
	name, value, ok := strings.Cut(line, "=")
	if !ok || !validName(name) {
		// The text may be a value pasted on its own: it is not quoted.
		return "", "", errors.New("want NAME=VALUE, with NAME of letters, digits and _ not starting with a digit, and no space around =")
	}
	if err := checkName(name); err != nil {
		return name, "", err
	}
	if err := checkBytes(value); err != nil {
		return name, "", err
	}
	value, err = unquote(value)
	return name, value, err
}

// checkBytes refuses every byte outside printable ASCII, describing it
// without showing it.
func checkBytes(s string) error {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
			return errors.New("a carriage return (CRLF line endings?): save the file with LF line endings")
		case c == '\t':
			return errors.New("a tab: use spaces inside single quotes, or none")
		case c < 0x20 || c == 0x7f:
			return errors.New("a control character")
		case c > 0x7e:
			return errors.New("a non-ASCII byte: env files here are printable ASCII")
		}
	}
	return nil
}

func unquote(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		return "", errors.New(`double quotes, which sh, compose and systemd unescape differently: use single quotes`)
	case strings.HasPrefix(v, "'"):
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", errors.New("no closing single quote (a value is one line)")
		}
		inner, rest := v[1:1+end], v[2+end:]
		switch {
		case rest != "" && strings.Trim(rest, " ") == "":
			return "", errors.New("trailing whitespace after the closing quote; remove it")
		case rest != "":
			return "", errors.New("text after the closing quote; a value cannot hold a ' (nor a \\)")
		case strings.Contains(inner, `\`):
			return "", errors.New(`a backslash inside single quotes, which compose reads as an escape and sh and systemd do not`)
		}
		return inner, nil
	}
	if strings.TrimRight(v, " ") != v {
		return "", errors.New("trailing whitespace after the value; remove it")
	}
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(bareChars, v[i]) < 0 {
			return "", errors.New("an unquoted value may hold only letters, digits and _ @ % + = : , . / -; put it in single quotes, as NAME='...' (no ' or \\ inside)")
		}
	}
	if strings.HasPrefix(v, "=") || strings.Contains(v, ":=") {
		// zsh replaces =cmd in an assignment, at its start or after a :,
		// with the command's path, and stops reading the file when there
		// is no such command.
		return "", errors.New("an unquoted value starting with = or holding :=, which zsh expands to a command's path; put it in single quotes, as NAME='...'")
	}
	return v, nil
}

// checkName refuses a valid name that some reader does not take as a plain
// variable.
func checkName(name string) error {
	switch {
	case strings.HasPrefix(name, "export"):
		// compose-go before v1.6.0 and the godotenv fork it used before
		// (docker compose v2 releases of 2021 and 2022) strip "export"
		// without requiring a space: exportA=1 sets A there.
		return errors.New("a name starting with `export`, which docker compose v2 releases of 2021-2022 strip, setting another variable; rename it")
	case shellSpecial[name], strings.HasPrefix(name, "BASH"), strings.HasPrefix(name, "ZSH_"):
		return errors.New("a variable the shell keeps for itself (read-only, set or counted by the shell, evaluated as arithmetic, which can run a command, or a prompt it runs), so sourcing the file would not keep the file's value or would run it; rename it")
	}
	return nil
}

// shellSpecial are the names that bash, dash, zsh or busybox sh do not
// treat as a plain variable when a file assigns them under set -a (seen with
// bash 5.2, dash 0.5.12, zsh 5.9, busybox 1.35; TestShellSpecialNames).
// BASH* and ZSH_* are those shells' own namespaces and are refused whole.
//   - read-only: the shell refuses the line, and zsh then stops reading the
//     file: EUID, PPID, UID, SHELLOPTS; ARGC, HISTCMD, LINENO, TTYIDLE and
//     zsh's parameter-module names (aliases, commands, options, status, ...).
//   - set or counted by the shell itself, or not exported: _, RANDOM,
//     SECONDS, EPOCHSECONDS, FUNCNAME, GROUPS, DIRSTACK, COMP_WORDBREAKS, and
//     zsh's integers (COLUMNS, SHLVL, GID, ...) and arrays tied to a scalar
//     (path is PATH, cdpath, fpath, ...).
//   - evaluated as arithmetic: bash runs RANDOM='a[$(cmd)]' (also SRANDOM,
//     OPTIND, HISTCMD) even single-quoted; dash stops at a non-numeric
//     OPTIND.
//   - prompts, which an interactive shell expands (bash runs $(…) in
//     PS0-PS4 and runs PROMPT_COMMAND; zsh with prompt_subst), while compose
//     and systemd only pass them on.
var shellSpecial = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`_ ARGC COLUMNS COMP_WORDBREAKS DIRSTACK EGID EPOCHREALTIME EPOCHSECONDS
		ERRNO EUID FUNCNAME FUNCNEST GID GROUPS HISTCHARS HISTCMD HISTSIZE KEYBOARD_HACK KEYTIMEOUT
		LINENO LINES LISTMAX MAILCHECK OPTIND PPID RANDOM SAVEHIST SECONDS SHELLOPTS SHLVL SRANDOM
		TRY_BLOCK_ERROR TRY_BLOCK_INTERRUPT TTYIDLE UID USERNAME ZLE_RPROMPT_INDENT
		PROMPT_COMMAND PS0 PS1 PS2 PS3 PS4 PROMPT PROMPT2 PROMPT3 PROMPT4 RPROMPT RPROMPT2 RPS1 RPS2 SPROMPT prompt
		aliases argv builtins cdpath commands dirstack dis_aliases dis_builtins dis_functions
		dis_functions_source dis_galiases dis_patchars dis_reswords dis_saliases fignore fpath
		funcfiletrace funcsourcetrace funcstack functions functions_source functrace galiases histchars
		history historywords jobdirs jobstates jobtexts keymaps mailpath manpath module_path modules
		nameddirs options parameters patchars path pipestatus psvar reswords saliases status termcap
		terminfo userdirs usergroups watch widgets zsh_eval_context zsh_scheduled_events`) {
		shellSpecial[name] = true
	}
}

// validName reports whether s is a variable name sh accepts:
// [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
