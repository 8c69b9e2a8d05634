package layout

import (
	"path/filepath"
	"testing"
)

func TestHTTPSuccess(t *testing.T) {
	for code, want := range map[string][2]bool{ // {server, client}
		"200": {true, true}, "204": {true, true}, "101": {true, true}, "301": {true, true}, "302": {true, true},
		"00":  {false, true},
		"304": {false, false}, "404": {false, false}, "500": {false, false}, "99": {false, false},
		"03": {false, false}, "": {false, false}, "2xx": {false, false}, "2000": {false, false},
	} {
		if got := HTTPSuccess(code, false); got != want[0] {
			t.Errorf("HTTPSuccess(%q, server) = %v", code, got)
		}
		if got := HTTPSuccess(code, true); got != want[1] {
			t.Errorf("HTTPSuccess(%q, client) = %v", code, got)
		}
	}
}

func TestRPCAndGenericSuccess(t *testing.T) {
	for code, want := range map[string][2]bool{ // {rpc, generic}
		CodeSuccess: {true, true}, "": {true, false}, " ": {true, false},
		CodeBizError: {false, false}, CodeRPCError: {false, false}, CodeTimeout: {false, false},
		CodeRouting: {false, false}, CodeError: {false, false}, "200": {false, false},
	} {
		if got := RPCSuccess(code); got != want[0] {
			t.Errorf("RPCSuccess(%q) = %v", code, got)
		}
		if got := GenericSuccess(code); got != want[1] {
			t.Errorf("GenericSuccess(%q) = %v", code, got)
		}
	}
}

func TestLoadTestMark(t *testing.T) {
	for bag, want := range map[string]bool{
		"mark=T&": true, "a=b&mark=T&": true, "mark=T": true,
		"mark=F&": false, "xmark=T&": false, "mark=TT&": false, "": false, "a=mark=T&": false,
	} {
		if got := LoadTestMark(bag); got != want {
			t.Errorf("LoadTestMark(%q) = %v", bag, got)
		}
	}
}

func TestNames(t *testing.T) {
	if got := DigestFileName(LogTypeSpringMVC); got != "spring-mvc-digest.log" {
		t.Error(got)
	}
	if got := StatFileName(LogTypeRPCClient); got != "rpc-client-stat.log" {
		t.Error(got)
	}
	if got := DigestDir("/l"); got != filepath.Join("/l", "tracelog") {
		t.Error(got)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv(EnvLogPath, "")
	t.Setenv(EnvSOFALogPath, "/sofa")
	if got := DefaultRoot(); got != "/sofa" {
		t.Errorf("DefaultRoot() = %q with only %s set", got, EnvSOFALogPath)
	}
	t.Setenv(EnvLogPath, "/ours")
	if got := DefaultRoot(); got != "/ours" {
		t.Errorf("DefaultRoot() = %q, want %s to win", got, EnvLogPath)
	}
	t.Setenv(EnvLogPath, "")
	t.Setenv(EnvSOFALogPath, "")
	t.Setenv("HOME", "/home/u")
	if got := DefaultRoot(); got != filepath.Join("/home/u", "logs") {
		t.Errorf("DefaultRoot() = %q, want $HOME/logs", got)
	}
}

func TestReadSuccess(t *testing.T) {
	for _, c := range []struct {
		code             string
		httpLayout, clnt bool
		want             bool
	}{
		{"00", true, false, false}, {"00", true, true, true}, {"200", true, false, true}, {"404", true, true, false},
		{"00", false, false, true}, {"200", false, false, true}, {"99", false, false, false}, {"", false, true, false},
	} {
		if got := ReadSuccess(c.code, c.httpLayout, c.clnt); got != c.want {
			t.Errorf("ReadSuccess(%q, http=%v, client=%v) = %v", c.code, c.httpLayout, c.clnt, got)
		}
	}
}
