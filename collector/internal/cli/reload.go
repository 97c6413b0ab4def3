package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// notifyReload turns SIGHUP into reload requests for the daemon (a
// request already waiting absorbs the next signal) until stop is called.
// Without it SIGHUP would end the process.
func notifyReload(ctx context.Context) (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	out := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, func() {
		signal.Stop(sig)
		cancel()
		<-done
	}
}
