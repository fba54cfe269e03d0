// lameduck-pause: the program behind lameduck's `adaptive` preStop handler. It runs inside the
// app's container (any image: it is static and needs no shell) and pauses until client traffic to
// the Pod has stopped for a quiet period, between a minimum and a maximum, then writes what it saw
// to the container's termination message. docs/adaptive.md says how and what it cannot tell apart.
//
//	lameduck-pause install DIR    copy this program into DIR (an init container, into an emptyDir)
//	lameduck-pause wait --min 5s --max 2m --quiet 5s [--ports 8080,8443] [--probe-periods 10s,5s]
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Name is the program's file name in the volume it is installed into.
const Name = "lameduck-pause"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage: lameduck-pause install DIR
       lameduck-pause wait --min D --max D --quiet D [--ports P,P] [--probe-periods D,D] [--message-file F]`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "install":
		if len(args) != 2 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		self, err := os.Executable()
		if err == nil {
			err = install(self, args[1])
		}
		if err != nil {
			fmt.Fprintf(stderr, "lameduck-pause install: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "installed %s\n", filepath.Join(args[1], Name))
		return 0
	case "wait":
		options, err := parseWait(args[1:])
		if err != nil {
			fmt.Fprintf(stderr, "lameduck-pause wait: %v\n%s\n", err, usage)
			return 2
		}
		report := pause(options, systemClock{}, kernel{})
		deliver(report, options.MessageFile, stdout, stderr)
		return 0
	default:
		fmt.Fprintf(stderr, "lameduck-pause: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
}

// install copies the program at self into dir, atomically: a half-written file never has its name.
func install(self, dir string) error {
	in, err := os.Open(self)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "."+Name+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(0o755); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), filepath.Join(dir, Name))
}
