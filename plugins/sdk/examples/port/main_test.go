package main

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

// server accepts connections on loopback and greets each with greeting
// ("" greets with nothing and holds the connection open).
func server(t *testing.T, greeting string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if greeting == "" {
				continue // silent: the client must give up by its deadline
			}
			c.Write([]byte(greeting))
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// The probe function on its own.
func TestCollect(t *testing.T) {
	addr := server(t, "220 mail.example.go.id ESMTP\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p := collect(ctx, config{Address: addr, Expect: "ESMTP"})[0]
	if p.Fields["up"] != int64(1) || p.Tags["address"] != addr {
		t.Errorf("up: %+v", p)
	}
	p = collect(ctx, config{Address: addr, Expect: "IMAP"})[0]
	if p.Fields["up"] != int64(0) || p.Fields["error"] != "greeting did not match" {
		t.Errorf("wrong greeting: %+v", p)
	}
	// a server that never answers: down, by the deadline
	silent := server(t, "")
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	begin := time.Now()
	p = collect(short, config{Address: silent, Expect: "ESMTP"})[0]
	if p.Fields["up"] != int64(0) || time.Since(begin) > 2*time.Second {
		t.Errorf("silent server: %+v after %s", p, time.Since(begin))
	}
}

// The whole plugin over go-plugin's in-process gRPC connection, as the
// agent talks to it: Describe, Configure (a bad target is refused, the
// others kept), Collect.
func TestContract(t *testing.T) {
	addr := server(t, "220 ready\r\n")
	probe := sdk.Targets(sdk.Description{Name: "port", Version: "1.0.0", Measurements: []string{"port"}}, decode, collect)
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{sdk.PluginName: &sdk.GRPCPlugin{Impl: probe}})
	defer client.Close()
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c := raw.(*sdk.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d, err := c.Describe(ctx); err != nil || d.Name != "port" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	rejected, err := c.Configure(ctx, []sdk.Target{
		{Name: "mail", Config: json.RawMessage(`{"address": "` + addr + `", "expect": "220"}`)},
		{Name: "typo", Config: json.RawMessage(`{"adress": "` + addr + `"}`)},
	})
	if err != nil || len(rejected) != 1 || rejected["typo"] == "" {
		t.Fatalf("configure: %v %v", rejected, err)
	}
	pts, err := c.Collect(ctx, "mail")
	if err != nil || len(pts) != 1 || pts[0].Fields["up"] != int64(1) {
		t.Fatalf("collect: %+v %v", pts, err)
	}
}
