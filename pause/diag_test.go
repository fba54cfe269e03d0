package main

import (
	"encoding/binary"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// diagMessage builds an inet_diag_msg as the kernel sends it, with a tcp_info when lastRecv >= 0.
func diagMessage(state uint8, port uint16, cookie uint64, lastRecvMs int) []byte {
	b := make([]byte, diagMessageSize)
	b[1] = state
	binary.BigEndian.PutUint16(b[4:], port)
	binary.NativeEndian.PutUint32(b[44:], uint32(cookie))
	binary.NativeEndian.PutUint32(b[48:], uint32(cookie>>32))
	if lastRecvMs >= 0 {
		info := make([]byte, syscall.SizeofRtAttr+104)
		binary.NativeEndian.PutUint16(info[0:], uint16(len(info)))
		binary.NativeEndian.PutUint16(info[2:], inetDiagInfo)
		binary.NativeEndian.PutUint32(info[syscall.SizeofRtAttr+lastDataRecvOffset:], uint32(lastRecvMs))
		b = append(b, info...)
	}
	return b
}

func TestParseDiagMessage(t *testing.T) {
	c, err := parseDiagMessage(diagMessage(1, 8080, 1<<40|5, 1234))
	if err != nil || c.State != 1 || c.LocalPort != 8080 || c.Cookie != 1<<40|5 ||
		!c.HasLastRecv || c.LastRecv != 1234*time.Millisecond {
		t.Fatalf("got %+v, %v", c, err)
	}
	if c, err := parseDiagMessage(diagMessage(6, 8080, 1, -1)); err != nil || c.HasLastRecv {
		t.Fatalf("a TIME_WAIT socket has no tcp_info: %+v, %v", c, err)
	}
	if _, err := parseDiagMessage(make([]byte, 10)); err == nil {
		t.Fatal("a short message was accepted")
	}
	bad := append(diagMessage(1, 80, 1, -1), 2, 0, 2, 0) // an attribute of length 2
	if _, err := parseDiagMessage(bad); err == nil {
		t.Fatal("a bad attribute length was accepted")
	}
}

func netlinkMessage(kind uint16, data []byte) []byte {
	b := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(data)+4)
	binary.NativeEndian.PutUint32(b[0:], uint32(syscall.NLMSG_HDRLEN+len(data)))
	binary.NativeEndian.PutUint16(b[4:], kind)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestParseDump(t *testing.T) {
	reply := netlinkMessage(sockDiagByFamily, diagMessage(1, 80, 1, 10))
	reply = append(reply, netlinkMessage(syscall.NLMSG_DONE, make([]byte, 4))...)
	found, done, err := parseDump(reply, nil)
	if err != nil || !done || len(found) != 1 || found[0].LocalPort != 80 {
		t.Fatalf("got %+v %v %v", found, done, err)
	}
	if _, done, err := parseDump(netlinkMessage(sockDiagByFamily, diagMessage(1, 80, 1, 10)), nil); done || err != nil {
		t.Fatal("a reply without NLMSG_DONE ended the dump")
	}
	errno := make([]byte, 4)
	code := -int32(syscall.EPERM)
	binary.NativeEndian.PutUint32(errno, uint32(code))
	if _, _, err := parseDump(netlinkMessage(syscall.NLMSG_ERROR, errno), nil); err == nil {
		t.Fatal("an NLMSG_ERROR was not an error")
	}
	if _, done, err := parseDump(netlinkMessage(syscall.NLMSG_ERROR, make([]byte, 4)), nil); !done || err != nil {
		t.Fatal("an NLMSG_ERROR of 0 (an acknowledgement) is not the end")
	}
	if _, _, err := parseDump(netlinkMessage(sockDiagByFamily, make([]byte, 8)), nil); err == nil {
		t.Fatal("a short inet_diag_msg was accepted")
	}
	truncated := netlinkMessage(sockDiagByFamily, nil)
	binary.NativeEndian.PutUint32(truncated, 100)
	if _, _, err := parseDump(truncated, nil); err == nil {
		t.Fatal("a truncated reply was accepted")
	}
}

func TestClientSockets(t *testing.T) {
	all := []Connection{
		{State: stateListen, LocalPort: 8080, HasLastRecv: true},
		{State: 1, LocalPort: 8080, Cookie: 1, HasLastRecv: true, LastRecv: time.Second},
		{State: 8, LocalPort: 8080, Cookie: 2, HasLastRecv: true},            // CLOSE_WAIT: still a client's
		{State: 1, LocalPort: 41234, Cookie: 3, HasLastRecv: true},           // our own, outbound
		{State: stateSynSent, LocalPort: 8080, Cookie: 4, HasLastRecv: true}, // connecting out
		{State: 6, LocalPort: 8080, Cookie: 5},                               // TIME_WAIT: no tcp_info
		{State: 1, LocalPort: 9090, Cookie: 6, HasLastRecv: true},
	}
	cookies := func(sockets []Socket) (list []uint64) {
		for _, s := range sockets {
			list = append(list, s.Cookie)
		}
		return
	}
	if got := cookies(ClientSockets(all, nil)); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("served by listeners: got %v, want [1 2]", got)
	}
	if got := cookies(ClientSockets(all, map[uint16]bool{9090: true})); len(got) != 1 || got[0] != 6 {
		t.Fatalf("served by --ports: got %v, want [6]", got)
	}
}

func TestParsePassiveOpens(t *testing.T) {
	text := "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens\nTcp: 1 200 120000 -1 12 345\n"
	if n, err := ParsePassiveOpens(text); err != nil || n != 345 {
		t.Fatalf("got %d, %v", n, err)
	}
	if _, err := ParsePassiveOpens("Tcp: A B\nTcp: 1 2\n"); err == nil {
		t.Fatal("no PassiveOpens, no error")
	}
}

// The real kernel, in this process's own network namespace: a kept-alive connection to a listener
// is seen with its last data, and the listener's accepts are counted.
func TestTheKernelShowsAKeptAliveConnection(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	port := uint16(listener.Addr().(*net.TCPAddr).Port)
	before, err := PassiveOpens()
	if err != nil {
		t.Fatal(err)
	}
	client, err := net.Dial("tcp", listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := listener.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	go io.Copy(io.Discard, server)
	time.Sleep(300 * time.Millisecond)
	client.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	time.Sleep(50 * time.Millisecond)
	all, err := Dump()
	if err != nil {
		t.Fatal(err)
	}
	sockets := ClientSockets(all, map[uint16]bool{port: true})
	if len(sockets) != 1 || sockets[0].LastRecv > 200*time.Millisecond {
		t.Fatalf("sockets on port %d: %+v, want one with data under 200 ms ago", port, sockets)
	}
	if after, _ := PassiveOpens(); after <= before {
		t.Fatalf("PassiveOpens %d then %d: the accept was not counted", before, after)
	}
}
