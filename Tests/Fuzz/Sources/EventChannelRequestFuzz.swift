// Target "evtchn-request": event_channel_op's argument structures decoded from guest bytes
// and the replies encoded back (Events/EventChannelRequest.swift).
//
// Input: records of a command (a small number mostly, any u32 sometimes), the structure's
// bytes, and a reply to encode.
// Invariants: checked against this file's own copy of event_channel.h's layouts: the size
// asked for, every IN field read from its offset, OUT fields written where the header puts
// them and nothing else of the structure touched (IN fields must come back unchanged, since
// Xen copies the whole structure back), copy-back exactly for the commands with OUT fields,
// nothing read or written outside the structure (ASan: the structure is an exact-size heap
// block).

enum EventChannelRequestFuzz {
    struct Field { var offset: Int; var size: Int }
    struct Layout { var size: Int; var inFields: [Field]; var outFields: [Field] }

    /// event_channel.h, for the commands Apus has (FIFO ones and unknown numbers: nil).
    static func layout(_ command: UInt32) -> Layout? {
        func f(_ offset: Int, _ size: Int) -> Field { Field(offset: offset, size: size) }
        switch command {
        case 0, 1, 2: return Layout(size: 12, inFields: [f(0, command == 0 ? 2 : 4), f(4, 4)], outFields: [f(8, 4)])
        case 3, 4, 9: return Layout(size: 4, inFields: [f(0, 4)], outFields: [])
        case 5: return Layout(size: 24, inFields: [f(0, 2), f(4, 4)], outFields: [f(8, 4), f(12, 4), f(16, 8)])
        case 6: return Layout(size: 8, inFields: [f(0, 2), f(2, 2)], outFields: [f(4, 4)])
        case 7: return Layout(size: 8, inFields: [f(0, 4)], outFields: [f(4, 4)])
        case 8: return Layout(size: 8, inFields: [f(0, 4), f(4, 4)], outFields: [])
        case 10, 14: return Layout(size: 2, inFields: [f(0, 2)], outFields: [])
        default: return nil
        }
    }

    static func run(_ input: inout FuzzInput) {
        var records = 0
        while !input.isExhausted && records < 64 {
            records += 1
            let command = input.byte() < 224 ? UInt32(input.byte() % 18) : input.u32()
            one(command, &input)
        }
    }

    static func one(_ command: UInt32, _ input: inout FuzzInput) {
        let size = EventChannelRequest.argumentSize(command: command)
        guard let layout = layout(command) else {
            invariant(size == nil, "command \(command) has a size (\(size!)) but no structure in event_channel.h")
            let empty = ExactBuffer(count: 0)
            invariant(EventChannelRequest.decode(command: command, bytes: empty.raw) == nil, "command \(command) decoded")
            return
        }
        invariant(size == layout.size, "command \(command): size \(String(describing: size)), header says \(layout.size)")
        invariant(EventChannelRequest.writesBack(command: command) == !layout.outFields.isEmpty,
                  "command \(command): copy-back \(EventChannelRequest.writesBack(command: command))")
        let structure = ExactBuffer(count: layout.size)
        let given = input.take(layout.size)
        if given.count > 0 { structure.pointer.copyMemory(from: given.baseAddress!, byteCount: given.count) }
        let original = structure.array

        func le(_ field: Field) -> UInt64 {
            (0..<field.size).reduce(UInt64(0)) { $0 | UInt64(original[field.offset + $1]) << UInt64(8 * $1) }
        }
        guard let request = EventChannelRequest.decode(command: command, bytes: structure.raw) else {
            violation("command \(command) has a structure but did not decode")
        }
        invariant(structure.array == original, "decoding changed the structure")
        let a = le(layout.inFields[0]), b = layout.inFields.count > 1 ? le(layout.inFields[1]) : 0
        let expected: EventChannelRequest
        switch command {
        case 0: expected = .bindInterdomain(remoteDomain: UInt16(a), remotePort: UInt32(b))
        case 1: expected = .bindVIRQ(virq: UInt32(a), vcpu: UInt32(b))
        case 2: expected = .bindPIRQ(pirq: UInt32(a), flags: UInt32(b))
        case 3: expected = .close(port: UInt32(a))
        case 4: expected = .send(port: UInt32(a))
        case 5: expected = .status(domain: UInt16(a), port: UInt32(b))
        case 6: expected = .allocUnbound(domain: UInt16(a), remoteDomain: UInt16(b))
        case 7: expected = .bindIPI(vcpu: UInt32(a))
        case 8: expected = .bindVCPU(port: UInt32(a), vcpu: UInt32(b))
        case 9: expected = .unmask(port: UInt32(a))
        default: expected = .reset(domain: UInt16(a))
        }
        invariant(request == expected, "command \(command) decoded as \(request), header layout gives \(expected)")

        // A reply, encoded over the structure as copied in.
        let reply = randomReply(&input)
        reply.encode(command: command, into: structure.mutableRaw)
        var expectedBytes = original
        func put(_ value: UInt64, _ offset: Int, _ size: Int) {
            for i in 0..<size { expectedBytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
        }
        switch command {
        case 0, 1, 2: put(UInt64(reply.port), 8, 4)
        case 6, 7: put(UInt64(reply.port), 4, 4)
        case 5:
            if let status = reply.status {
                let code: UInt64
                switch status.binding {
                case .free, .reserved: code = 0
                case .unbound(let rd): code = 1; put(UInt64(rd), 16, 2)
                case .interdomain(let rd, let rp): code = 2; put(UInt64(rd), 16, 2); put(UInt64(rp), 20, 4)
                case .pirq(let p): code = 3; put(UInt64(p), 16, 4)
                case .virq(let v): code = 4; put(UInt64(v), 16, 4)
                case .ipi: code = 5
                }
                put(code, 8, 4)
                put(UInt64(status.vcpu), 12, 4)
            }
        default: break
        }
        let after = structure.array
        invariant(after == expectedBytes, "command \(command): reply \(reply) encoded as \(after), header layout gives \(expectedBytes)")
        for field in layout.inFields {
            invariant(after[field.offset..<(field.offset + field.size)] == original[field.offset..<(field.offset + field.size)],
                      "command \(command): encoding overwrote the IN field at \(field.offset)")
        }
    }

    static func randomBinding(_ input: inout FuzzInput) -> EventChannelBinding {
        switch input.byte() % 7 {
        case 0: return .free
        case 1: return .reserved
        case 2: return .unbound(remoteDomain: input.u16())
        case 3: return .interdomain(remoteDomain: input.u16(), remotePort: input.u32())
        case 4: return .pirq(input.u32())
        case 5: return .virq(input.u32())
        default: return .ipi
        }
    }

    static func randomReply(_ input: inout FuzzInput) -> EventChannelReply {
        let port = input.u32()
        let status = input.bool() ? EventChannelStatus(binding: randomBinding(&input), vcpu: input.u32()) : nil
        let kick = input.bool() ? EventKick(domain: input.u16(), vcpu: input.u16()) : nil
        return EventChannelReply(port: port, status: status, kick: kick)
    }
}
