// Command badagent is a release that never reports healthy, for the
// update tests: `version` names it pantau-agent v0.0.0-bad (so it passes
// the self-test), and anything else prints its pid and then waits for
// SIGTERM, or exits 1 at once when BADAGENT=exit.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("pantau-agent v0.0.0-bad (revision test, built test, go linux/amd64)")
		return
	}
	fmt.Fprintf(os.Stderr, "badagent started pid=%d trial=%s\n", os.Getpid(), os.Getenv("PANTAU_AGENT_TRIAL"))
	if os.Getenv("BADAGENT") == "exit" {
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
