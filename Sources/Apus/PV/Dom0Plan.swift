// The builder's view of dom0's start-of-day layout: ApusCore's Dom0Layout (Xen's
// arrangement, computed and tested in the pure core) reduced to the addresses and frame
// numbers Dom0Construct acts on.
import ApusCore

extension Dom0Plan {
    init(layout: Dom0Layout, image: XenKernelImage) {
        self.init()
        virtualBase = layout.total.start
        initrdStart = layout.initrd.isEmpty ? 0 : layout.initrd.start
        initrdPFN = layout.initrd.isEmpty ? layout.initrdPFN : nil
        moduleStart = layout.moduleStart
        moduleStartIsPFN = layout.moduleStartIsPFN
        p2mStart = layout.p2m.start
        p2mEnd = layout.p2m.end
        startInfo = layout.startInfo.start
        pageTablesStart = layout.pageTables.start
        pageTablesEnd = layout.pageTables.end
        stackStart = layout.bootStack.start
        regionEnd = layout.total.end
        entry = image.entry
        hypercallPage = image.hypercallPage ?? 0
        pages = layout.request.nrPages
        firstP2MPFN = layout.initialPages
    }
}
