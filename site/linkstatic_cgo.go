//go:build cgo && linux && !sharedcxx

package site

// libstdc++ (and libgcc) are linked into the binary, glibc stays shared:
// loading libstdc++.so and running its start-up took 4-6 ms of every
// islet command here, a tenth of rendering a small site. --as-needed
// then keeps the shared libstdc++ that libsass's own -lstdc++ names
// out of the binary's needs. Where the C++ compiler has no static
// libstdc++ (Fedora's libstdc++-static package), build with
// -tags sharedcxx.

// #cgo LDFLAGS: -static-libgcc -Wl,-Bstatic -lstdc++ -Wl,-Bdynamic -Wl,--as-needed
import "C"
