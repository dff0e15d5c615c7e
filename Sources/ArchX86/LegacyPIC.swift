// The legacy 8259 PIC pair. Apus routes interrupts through the local APIC (and the
// IOAPIC when devices need it), so the PICs are only moved off the exception vectors
// (to 0x20-0x2F) and masked, so that a stray legacy IRQ cannot look like a #DF or #GP.
public enum LegacyPIC {
    public static func remapAndMaskAll() {
        Port.out8(0x20, 0x11); Port.out8(0xA0, 0x11)   // ICW1: init, ICW4 follows
        Port.out8(0x21, 0x20); Port.out8(0xA1, 0x28)   // ICW2: vector bases
        Port.out8(0x21, 0x04); Port.out8(0xA1, 0x02)   // ICW3: cascade on IRQ2
        Port.out8(0x21, 0x01); Port.out8(0xA1, 0x01)   // ICW4: 8086 mode
        Port.out8(0x21, 0xFF); Port.out8(0xA1, 0xFF)   // mask everything
    }
}
