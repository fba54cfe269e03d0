package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The kernel's sock_diag interface (linux/sock_diag.h, linux/inet_diag.h): the dump `ss -ti`
// reads, open to any user for the sockets of its own network namespace.
const (
	sockDiagByFamily = 20
	inetDiagInfo     = 2
	// Sizes of struct inet_diag_req_v2 and struct inet_diag_msg.
	diagRequestSize = 56
	diagMessageSize = 72
	// Offset of tcpi_last_data_recv in struct tcp_info (linux/tcp.h), there since Linux 2.6.
	lastDataRecvOffset = 52
	stateSynSent       = 2
	stateListen        = 10
)

// Connection is one TCP socket of the dump.
type Connection struct {
	State     uint8
	LocalPort uint16
	Cookie    uint64
	// LastRecv is set only for full sockets (not TIME_WAIT or SYN_RECV ones).
	LastRecv    time.Duration
	HasLastRecv bool
}

// diagRequest is a dump request for every TCP socket of one family, with its tcp_info.
func diagRequest(family uint8, seq uint32) []byte {
	length := syscall.NLMSG_HDRLEN + diagRequestSize
	b := make([]byte, length)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(length))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	r := b[syscall.NLMSG_HDRLEN:]
	r[0] = family
	r[1] = syscall.IPPROTO_TCP
	r[2] = 1 << (inetDiagInfo - 1)
	ne.PutUint32(r[4:], 0xffffffff) // every state
	return b
}

// parseDiagMessage reads one inet_diag_msg and its attributes.
func parseDiagMessage(data []byte) (Connection, error) {
	if len(data) < diagMessageSize {
		return Connection{}, fmt.Errorf("inet_diag_msg of %d bytes, want %d", len(data), diagMessageSize)
	}
	c := Connection{
		State: data[1],
		// Ports and addresses are in network byte order; the cookie is two host-order words.
		LocalPort: binary.BigEndian.Uint16(data[4:]),
		Cookie:    uint64(binary.NativeEndian.Uint32(data[44:])) | uint64(binary.NativeEndian.Uint32(data[48:]))<<32,
	}
	attrs := data[diagMessageSize:]
	for len(attrs) >= syscall.SizeofRtAttr {
		length := int(binary.NativeEndian.Uint16(attrs[0:]))
		kind := binary.NativeEndian.Uint16(attrs[2:])
		if length < syscall.SizeofRtAttr || length > len(attrs) {
			return Connection{}, errors.New("bad attribute length in inet_diag_msg")
		}
		if kind == inetDiagInfo && length >= syscall.SizeofRtAttr+lastDataRecvOffset+4 {
			info := attrs[syscall.SizeofRtAttr:length]
			c.LastRecv = time.Duration(binary.NativeEndian.Uint32(info[lastDataRecvOffset:])) * time.Millisecond
			c.HasLastRecv = true
		}
		attrs = attrs[min(len(attrs), (length+syscall.RTA_ALIGNTO-1)&^(syscall.RTA_ALIGNTO-1)):]
	}
	return c, nil
}

// parseDump reads the messages of one reply; done once the dump's end has come.
func parseDump(reply []byte, into []Connection) ([]Connection, bool, error) {
	messages, err := syscall.ParseNetlinkMessage(reply)
	if err != nil {
		return into, false, err
	}
	for _, m := range messages {
		switch m.Header.Type {
		case syscall.NLMSG_DONE:
			return into, true, nil
		case syscall.NLMSG_ERROR:
			if len(m.Data) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
					return into, true, fmt.Errorf("sock_diag: %w", syscall.Errno(-code))
				}
			}
			return into, true, nil
		case sockDiagByFamily:
			c, err := parseDiagMessage(m.Data)
			if err != nil {
				return into, false, err
			}
			into = append(into, c)
		}
	}
	return into, false, nil
}

// dumpFamily lists the TCP sockets of one address family in this network namespace.
func dumpFamily(family uint8) ([]Connection, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	kernel := &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}
	if err := syscall.Sendto(fd, diagRequest(family, 1), 0, kernel); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}
	buf := make([]byte, 64<<10)
	var found []Connection
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("sock_diag reply: %w", err)
		}
		var done bool
		if found, done, err = parseDump(buf[:n], found); err != nil || done {
			return found, err
		}
	}
}

// Dump lists every TCP socket (IPv4 and IPv6) of this network namespace.
func Dump() ([]Connection, error) {
	v4, err := dumpFamily(syscall.AF_INET)
	if err != nil {
		return nil, err
	}
	v6, err := dumpFamily(syscall.AF_INET6)
	return append(v4, v6...), err
}

// ClientSockets are the connections to the served ports: not listeners, not our own outbound
// connections (whose local port is an ephemeral one, or which are still connecting). With no
// ports given, every port something listens on is served.
func ClientSockets(all []Connection, ports map[uint16]bool) []Socket {
	served := ports
	if len(served) == 0 {
		served = map[uint16]bool{}
		for _, c := range all {
			if c.State == stateListen {
				served[c.LocalPort] = true
			}
		}
	}
	var sockets []Socket
	for _, c := range all {
		if c.State == stateListen || c.State == stateSynSent || !c.HasLastRecv || !served[c.LocalPort] {
			continue
		}
		sockets = append(sockets, Socket{Cookie: c.Cookie, LastRecv: c.LastRecv})
	}
	return sockets
}

// ParsePassiveOpens reads Tcp's PassiveOpens from /proc/net/snmp's text.
func ParsePassiveOpens(text string) (uint64, error) {
	var header []string
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Tcp:" {
			continue
		}
		if header == nil {
			header = fields
			continue
		}
		for i, name := range header {
			if name == "PassiveOpens" && i < len(fields) {
				return strconv.ParseUint(fields[i], 10, 64)
			}
		}
	}
	return 0, errors.New("no Tcp PassiveOpens in /proc/net/snmp")
}

// PassiveOpens reads the count of connections this network namespace has accepted.
func PassiveOpens() (uint64, error) {
	text, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	return ParsePassiveOpens(string(text))
}
