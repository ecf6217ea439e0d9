import CLibUV
import Glibc
import SwiftUVStream
import Testing

// Every TTY here sits on a pseudo-terminal from openpty(3), never on the session's
// terminal. The master side is a TTY handle too (libuv treats it as a terminal with
// blocking writes), so both directions run through the loop.

private func flags(_ value: Int32) -> tcflag_t { tcflag_t(value) }

@Suite("Terminals", .serialized)
struct TTYTests {
    @Test("a TTY on a terminal: kind, directions, and the window size set on the master")
    func windowSize() throws {
        let pty = try PseudoTerminal(width: 80, height: 24)
        defer { pty.release() }
        let t = try TestLoop()
        defer { t.finish() }
        let tty = try pty.tty(t, fd: pty.slave)
        #expect(tty.kind == .tty && !tty.isIPC)
        #expect(tty.isReadable && tty.isWritable && !tty.isReading)
        let initial = try tty.windowSize()
        #expect(initial.width == 80 && initial.height == 24)
        // Resize through the master, as a terminal emulator does.
        var size = winsize(ws_row: 50, ws_col: 132, ws_xpixel: 0, ws_ypixel: 0)
        #expect(ioctl(pty.master, UInt(TIOCSWINSZ), &size) == 0, "ioctl(TIOCSWINSZ)")
        let resized = try tty.windowSize()
        #expect(resized.width == 132 && resized.height == 50)
        try tty.close()
        #expect(throws: UVError.closed) { _ = try tty.windowSize() }
        #expect(throws: UVError.closed) { try tty.setMode(.raw) }
        #expect(!tty.isReadable && !tty.isWritable)
    }

    @Test("write to the slave, read at the master, and back: output processing and echo of normal mode")
    func readWriteThroughMaster() throws {
        let pty = try PseudoTerminal()
        defer { pty.release() }
        let t = try TestLoop()
        defer { t.finish() }
        let slave = try pty.tty(t, fd: pty.slave)
        let master = try pty.tty(t, fd: pty.master)
        let atMaster = try collect(master, t, "master")
        let atSlave = try collect(slave, t, "slave")
        try slave.send("hello\n", t.logged("slave write"))
        try t.run(until: { atMaster.bytes.count >= 7 && t.events.count == 1 })
        #expect(text(atMaster.bytes) == "hello\r\n", "ONLCR turns \\n into \\r\\n")
        // Canonical input: the line arrives whole; the terminal echoes it to the master.
        try master.send("abc\n", t.logged("master write"))
        try t.run(until: { atSlave.bytes.count >= 4 && atMaster.bytes.count >= 12 })
        #expect(text(atSlave.bytes) == "abc\n")
        #expect(text(atMaster.bytes) == "hello\r\nabc\r\n")
        #expect(t.events == ["slave write 0", "master write 0"])
    }

    @Test("an output-only TTY writes but does not read")
    func outputOnly() throws {
        let pty = try PseudoTerminal()
        defer { pty.release() }
        let t = try TestLoop()
        defer { t.finish() }
        let tty = try pty.tty(t, fd: pty.slave, readable: false)
        #expect(!tty.isReadable && tty.isWritable)
        #expect(throws: UVError.notConnected) { try tty.readStart { _, _, _ in t.log("read") } }
        let master = try pty.tty(t, fd: pty.master)
        let atMaster = try collect(master, t, "master")
        try tty.send("out", t.logged("write"))
        try t.run(until: { atMaster.bytes.count >= 3 && t.events.count == 1 })
        #expect(text(atMaster.bytes) == "out")
        #expect(t.events == ["write 0"])
    }

    // The only test that takes a terminal out of normal mode: libuv remembers the
    // first terminal to leave it, process-wide, and resetMode() restores that one.
    @Test("setMode raw, normal and io change the slave's attributes and behaviour; resetMode restores them")
    func modes() throws {
        let pty = try PseudoTerminal()
        defer { pty.release() }
        let t = try TestLoop()
        defer { t.finish() }
        let slave = try pty.tty(t, fd: pty.slave)
        let master = try pty.tty(t, fd: pty.master)
        let atMaster = try collect(master, t, "master")
        let atSlave = try collect(slave, t, "slave")
        let original = pty.attributes()
        #expect(original.c_lflag & flags(ICANON | ECHO | ISIG) == flags(ICANON | ECHO | ISIG))
        #expect(original.c_oflag & flags(OPOST | ONLCR) == flags(OPOST | ONLCR))

        try slave.setMode(.normal)  // already normal: nothing changes
        #expect(pty.attributes().c_lflag == original.c_lflag)

        try slave.setMode(.raw)
        let raw = pty.attributes()
        #expect(raw.c_lflag & flags(ICANON | ECHO | ISIG | IEXTEN) == 0)
        #expect(raw.c_iflag & flags(ICRNL | IXON) == 0)
        #expect(raw.c_oflag & flags(OPOST | ONLCR) == flags(OPOST | ONLCR), "raw keeps output processing")
        // Byte by byte: no newline needed; no echo to the master.
        try master.send("xyz", t.logged("master write"))
        try t.run(until: { atSlave.bytes.count >= 3 })
        #expect(text(atSlave.bytes) == "xyz")
        try slave.send("ok\n", t.logged("slave write"))
        try t.run(until: { atMaster.bytes.count >= 4 })
        #expect(text(atMaster.bytes) == "ok\r\n", "nothing echoed before the slave's answer")

        try slave.setMode(.normal)
        let normal = pty.attributes()
        #expect(normal.c_lflag == original.c_lflag)
        #expect(normal.c_iflag == original.c_iflag)
        #expect(normal.c_oflag == original.c_oflag)
        try master.send("line\n", t.logged("master line"))
        try t.run(until: { atSlave.bytes.count >= 8 && atMaster.bytes.count >= 10 })
        #expect(text(atSlave.bytes) == "xyzline\n")
        #expect(text(atMaster.bytes) == "ok\r\nline\r\n", "the echo is back")

        try slave.setMode(.io)
        let io = pty.attributes()
        #expect(io.c_lflag & flags(ICANON | ECHO | ISIG) == 0)
        #expect(io.c_oflag & flags(OPOST) == 0, "binary-safe: no output processing")
        try slave.send("a\nb", t.logged("slave binary"))
        try t.run(until: { atMaster.bytes.count >= 13 })
        #expect(text(atMaster.bytes) == "ok\r\nline\r\na\nb")

        try TTY.resetMode()
        let reset = pty.attributes()
        #expect(reset.c_lflag == original.c_lflag)
        #expect(reset.c_iflag == original.c_iflag)
        #expect(reset.c_oflag == original.c_oflag)
        #expect(t.events == ["master write 0", "slave write 0", "master line 0", "slave binary 0"])
    }

    @Test("descriptors that are not terminals are rejected with EINVAL; a terminal is not a pipe")
    func rejectsNonTerminals() throws {
        let pty = try PseudoTerminal()
        defer { pty.release() }
        let dir = try TempDirectory()
        defer { dir.remove() }
        let t = try TestLoop()
        defer { t.finish() }
        let file = open(dir.file("plain"), O_RDWR | O_CREAT, 0o600)
        try #require(file >= 0)
        defer { close(file) }
        #expect(throws: UVError.invalidArgument, "a regular file") { _ = try TTY(loop: t.loop, fd: file, readable: true) }
        let null = open("/dev/null", O_RDWR)
        try #require(null >= 0)
        defer { close(null) }
        #expect(throws: UVError.invalidArgument, "/dev/null") { _ = try TTY(loop: t.loop, fd: null, readable: true) }
        let (readFD, writeFD) = try Pipe.makePipe()
        defer { close(readFD); close(writeFD) }
        #expect(throws: UVError.invalidArgument, "a pipe") { _ = try TTY(loop: t.loop, fd: readFD, readable: true) }
        #expect(throws: UVError.invalidArgument, "a pipe") { _ = try TTY(loop: t.loop, fd: writeFD, readable: false) }
        let (sockA, sockB) = try Pipe.makeSocketPair()
        defer { close(sockA); close(sockB) }
        #expect(throws: UVError.invalidArgument, "a socket") { _ = try TTY(loop: t.loop, fd: sockA, readable: true) }
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(tcp >= 0)
        defer { close(tcp) }
        #expect(throws: UVError.invalidArgument, "a TCP socket") { _ = try TTY(loop: t.loop, fd: tcp, readable: true) }
        #expect(throws: UVError.invalidArgument, "fd < 0") { _ = try TTY(loop: t.loop, fd: -1, readable: true) }
        #expect(throws: UVError.badFileDescriptor, "not open") { _ = try TTY(loop: t.loop, fd: 1_000_000, readable: true) }
        #expect(t.loop.handleCount == 0, "no handle was created")
        // The other way round: pipes and TCP refuse a terminal.
        let pipe = try Pipe(loop: t.loop)
        #expect(throws: UVError.invalidArgument, "a terminal slave") { try pipe.open(pty.slave) }
        #expect(throws: UVError.invalidArgument, "a terminal master") { try pipe.open(pty.master) }
        #expect(throws: UVError.notSocket) { try TCP(loop: t.loop).open(pty.slave) }
        // Both descriptors are still the caller's and still terminals.
        #expect(isatty(pty.slave) == 1 && isatty(pty.master) == 1)
    }
}
