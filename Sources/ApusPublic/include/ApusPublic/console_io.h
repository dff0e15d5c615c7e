/*
 * console_io.h: the hypervisor console, as seen by a guest.
 *
 * console_io(cmd, count, buffer):
 *  - CONSOLEIO_write copies count bytes from the guest buffer to the hypervisor's
 *    console (serial, VGA, ring). dom0's bytes appear as they are; other domains'
 *    lines are prefixed with "(dN) " and subject to guest_loglvl.
 *    Returns 0 when all bytes were written.
 *  - CONSOLEIO_read copies up to count bytes of pending console input (what was typed
 *    with the console switched to this domain) and returns how many.
 * Unprivileged domains may only use it if the hypervisor allows it (debug builds);
 * other commands return -ENOSYS.
 */
#ifndef APUS_PUBLIC_CONSOLE_IO_H
#define APUS_PUBLIC_CONSOLE_IO_H

#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

#endif /* APUS_PUBLIC_CONSOLE_IO_H */
