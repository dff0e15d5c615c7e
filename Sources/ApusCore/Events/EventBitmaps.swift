// The 2-level delivery protocol over a domain's shared_info, as pure logic.
//
// EventBitmaps is the view of one domain's shared_info the protocol needs: the pending and
// mask bitmaps and, per vCPU, evtchn_pending_sel, evtchn_upcall_pending and
// evtchn_upcall_mask. The hypervisor implements it over the real page with locked bit
// operations (the guest changes the same words concurrently, so every read-modify-write
// must be atomic); tests implement it over arrays. Methods are non-mutating because an
// implementation refers to memory it does not own.
//
// The protocol (Xen's 2-level ABI): a port becoming pending sets its pending bit; only if
// the bit was clear and the port is not masked does it set the selector bit of its word
// on the notify vCPU, and only if that bit was clear does it set upcall_pending; a kick is
// due only when upcall_pending goes from 0 to 1. Unmasking a pending port re-raises it
// the same way, since its rise was swallowed while masked. upcall_mask is not looked at
// here: it decides when the upcall is entered, not whether events are marked.
// Imports nothing.

public protocol EventBitmaps {
    /// Sets the port's pending bit; returns its old value.
    func testAndSetPending(_ port: UInt32) -> Bool
    /// Clears the port's pending bit; returns its old value.
    func testAndClearPending(_ port: UInt32) -> Bool
    func isPending(_ port: UInt32) -> Bool
    func isMasked(_ port: UInt32) -> Bool
    /// Clears the port's mask bit; returns its old value.
    func testAndClearMask(_ port: UInt32) -> Bool
    /// Sets bit `word` of the vCPU's evtchn_pending_sel; returns its old value.
    func testAndSetSelector(vcpu: UInt16, word: Int) -> Bool
    /// Sets the vCPU's evtchn_upcall_pending; returns its old value.
    func testAndSetUpcallPending(vcpu: UInt16) -> Bool
    func isUpcallPending(vcpu: UInt16) -> Bool
    func isUpcallMasked(vcpu: UInt16) -> Bool
}

public enum EventDelivery {
    /// Marks `port` pending for `vcpu` of `domain`. Returns the kick due, if any.
    public static func setPending<B: EventBitmaps>(_ port: UInt32, vcpu: UInt16, domain: UInt16,
                                                   bitmaps: B) -> EventKick? {
        if bitmaps.testAndSetPending(port) { return nil }
        if bitmaps.isMasked(port) { return nil }
        return raiseSelector(port, vcpu: vcpu, domain: domain, bitmaps: bitmaps)
    }

    /// EVTCHNOP_unmask's effect on the bitmaps: clears the mask bit and re-raises the port
    /// if it became pending while masked.
    public static func unmask<B: EventBitmaps>(_ port: UInt32, vcpu: UInt16, domain: UInt16,
                                               bitmaps: B) -> EventKick? {
        guard bitmaps.testAndClearMask(port), bitmaps.isPending(port) else { return nil }
        return raiseSelector(port, vcpu: vcpu, domain: domain, bitmaps: bitmaps)
    }

    /// Closing a port forgets an event that was pending on it, so a later binding starts clean.
    public static func clearPending<B: EventBitmaps>(_ port: UInt32, bitmaps: B) {
        _ = bitmaps.testAndClearPending(port)
    }

    /// Should the hypervisor enter the vCPU's event callback on its way back to the guest?
    public static func isUpcallDue<B: EventBitmaps>(vcpu: UInt16, bitmaps: B) -> Bool {
        bitmaps.isUpcallPending(vcpu: vcpu) && !bitmaps.isUpcallMasked(vcpu: vcpu)
    }

    private static func raiseSelector<B: EventBitmaps>(_ port: UInt32, vcpu: UInt16, domain: UInt16,
                                                       bitmaps: B) -> EventKick? {
        let word = Int(port) / EventChannelLimits.bitsPerWord
        if bitmaps.testAndSetSelector(vcpu: vcpu, word: word) { return nil }
        if bitmaps.testAndSetUpcallPending(vcpu: vcpu) { return nil }
        return EventKick(domain: domain, vcpu: vcpu)
    }
}
