// Target "inflate": Apus's DEFLATE decoder and gzip container (Dom0Builder/Inflate*.swift,
// GzipContainer.swift, CRC32.swift), checked against zlib.
//
// Input: a mode byte, then
//   0: an output capacity (u16 units of 16 bytes... up to 1 MiB) and a raw DEFLATE stream;
//   1: compression settings and data: zlib compresses it (raw or gzip), Apus unpacks it;
//   2: an output capacity and a gzip file (one or more members).
// Invariants: nothing read or written outside the input and output buffers (ASan, exact-size
// blocks; the decoder may write ahead only inside the output); consumed <= input, produced
// <= capacity; on raw streams Apus and zlib agree: whatever Apus accepts, zlib accepts with
// the same bytes and the same consumed length, and whatever zlib decodes within the
// capacity, Apus decodes too; anything zlib compresses, at any level and strategy, Apus
// unpacks to the original bytes into a buffer of exactly their size; a single gzip member
// Apus accepts, zlib accepts with the same bytes; the CRC-32 matches zlib's.
import CZlib
import Glibc

enum InflateFuzz {
    static func run(_ input: inout FuzzInput) {
        switch input.byte() % 3 {
        case 0: rawStream(&input)
        case 1: roundTrip(&input)
        default: gzipFile(&input)
        }
    }

    static func capacity(_ input: inout FuzzInput) -> Int {
        switch input.byte() % 4 {
        case 0: return Int(input.byte())
        case 1: return Int(input.u16())
        case 2: return Int(input.u16()) * 16
        default: return 1 << 16
        }
    }

    struct ZlibOutcome {
        var status: Int32
        var produced: Int
        var consumed: Int
        var outputFull: Bool
    }

    /// zlib's verdict on `data` (windowBits -15: raw, 31: one gzip member) with `capacity`.
    static func zlibInflate(_ data: UnsafeRawBufferPointer, capacity: Int, windowBits: Int32,
                            into output: UnsafeMutableRawPointer) -> ZlibOutcome {
        var stream = z_stream()
        guard apus_fuzz_inflate_init(&stream, windowBits) == Z_OK else { violation("zlib inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(data.count)
        stream.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(capacity)
        let status = inflate(&stream, Z_FINISH)
        return ZlibOutcome(status: status, produced: Int(stream.total_out), consumed: Int(stream.total_in),
                           outputFull: stream.avail_out == 0)
    }

    static func rawStream(_ input: inout FuzzInput) {
        let size = capacity(&input)
        let data = ExactBuffer(copying: input.rest())
        let output = ExactBuffer(count: size)
        var inflater = Inflater()
        let result: InflateResult?
        var failure: InflateError? = nil
        do { result = try inflater.inflate(data.raw, into: output.mutableRaw) } catch { result = nil; failure = error }
        trace("inflate: \(String(describing: result)) \(String(describing: failure))")

        let reference = ExactBuffer(count: size)
        let z = zlibInflate(data.raw, capacity: size, windowBits: -15, into: reference.pointer)
        if let result {
            invariant(result.consumedBytes <= data.count && result.producedBytes <= size,
                      "consumed \(result.consumedBytes)/\(data.count), produced \(result.producedBytes)/\(size)")
            invariant(z.status == Z_STREAM_END, "Apus accepted a stream zlib refuses (zlib status \(z.status))")
            invariant(z.produced == result.producedBytes, "Apus produced \(result.producedBytes) bytes, zlib \(z.produced)")
            invariant(memcmp(output.pointer, reference.pointer, result.producedBytes) == 0, "Apus and zlib disagree on the bytes")
            invariant(z.consumed == result.consumedBytes, "Apus consumed \(result.consumedBytes) bytes, zlib \(z.consumed)")
        } else if z.status == Z_STREAM_END {
            violation("zlib decodes the stream (\(z.produced) bytes into \(size)) but Apus refuses it: \(failure!)")
        }
        // Reusing the workspace must not leak state from one stream into the next.
        if let result {
            let again = ExactBuffer(count: size)
            guard let second = try? inflater.inflate(data.raw, into: again.mutableRaw) else {
                violation("the same stream failed the second time through one Inflater")
            }
            invariant(second == result && memcmp(again.pointer, output.pointer, result.producedBytes) == 0,
                      "the same stream decoded differently the second time")
        }
    }

    static func roundTrip(_ input: inout FuzzInput) {
        let level = Int32(input.byte() % 11) - 1            // -1 (default) ... 9
        let memLevel = Int32(1 + input.byte() % 9)
        let strategy = Int32(input.byte() % 5)              // default, filtered, huffman only, RLE, fixed
        let gzip = input.bool()
        let repeats = 1 + Int(input.byte() % 4)
        let chunk = input.rest()
        // Repetition gives the compressor matches to find, so back-references get exercised.
        var original: [UInt8] = []
        for _ in 0..<repeats { original += Array(chunk) }

        var stream = z_stream()
        guard apus_fuzz_deflate_init(&stream, level, gzip ? 31 : -15, memLevel, strategy) == Z_OK else {
            violation("zlib deflateInit2 failed")
        }
        let bound = Int(deflateBound(&stream, uLong(original.count))) + 64
        let compressed = ExactBuffer(count: bound)
        let status: Int32 = original.withUnsafeMutableBytes { source in
            stream.next_in = source.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = UInt32(source.count)
            stream.next_out = compressed.pointer.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(bound)
            return deflate(&stream, Z_FINISH)
        }
        let compressedSize = Int(stream.total_out)
        deflateEnd(&stream)
        guard status == Z_STREAM_END else { violation("zlib deflate returned \(status)") }
        let packed = ExactBuffer(copying: UnsafeRawBufferPointer(rebasing: compressed.raw[0..<compressedSize]))

        // Exactly the original size: the caller sizes the buffer from gzip's ISIZE.
        let output = ExactBuffer(count: original.count)
        var inflater = Inflater()
        do {
            if gzip {
                invariant(GzipHeader.sizeHint(packed.window) == UInt32(truncatingIfNeeded: original.count), "ISIZE hint")
                let result = try inflater.gunzip(packed.raw, into: output.mutableRaw)
                invariant(result.members == 1 && result.consumedBytes == packed.count && result.trailingBytes == 0
                          && result.producedBytes == original.count, "gunzip of zlib's output: \(result)")
            } else {
                let result = try inflater.inflate(packed.raw, into: output.mutableRaw)
                invariant(result.consumedBytes == packed.count && result.producedBytes == original.count,
                          "inflate of zlib's output: \(result), \(packed.count) bytes in, \(original.count) out")
            }
        } catch {
            violation("Apus cannot unpack zlib's \(gzip ? "gzip" : "raw") output (level \(level), strategy \(strategy), "
                      + "\(original.count) bytes): \(error)")
        }
        invariant(output.array == original, "round trip changed the data")

        // The CRC-32 of the data, Apus's and zlib's.
        let crc = CRC32Table().checksum(output.raw)
        let zcrc = original.withUnsafeBytes { UInt32(crc32(0, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count))) }
        invariant(crc == zcrc, "CRC-32 \(hex(crc)), zlib \(hex(zcrc))")
    }

    static func gzipFile(_ input: inout FuzzInput) {
        let size = capacity(&input)
        let data = ExactBuffer(copying: input.rest())
        _ = GzipHeader.sizeHint(data.window)
        _ = try? GzipHeader.parse(data.window, crc: CRC32Table())
        let output = ExactBuffer(count: size)
        var inflater = Inflater()
        guard let result = try? inflater.gunzip(data.raw, into: output.mutableRaw) else { trace("gunzip: refused"); return }
        trace("gunzip: \(result)")
        invariant(result.members >= 1 && result.consumedBytes + result.trailingBytes == data.count
                  && result.consumedBytes <= data.count && result.producedBytes <= size, "gunzip result \(result)")
        guard result.members == 1 else { return }
        let reference = ExactBuffer(count: size)
        let z = zlibInflate(data.raw, capacity: size, windowBits: 31, into: reference.pointer)
        invariant(z.status == Z_STREAM_END, "Apus accepted a gzip member zlib refuses (zlib status \(z.status))")
        invariant(z.produced == result.producedBytes && memcmp(output.pointer, reference.pointer, z.produced) == 0,
                  "Apus and zlib disagree on a gzip member's bytes")
    }
}
