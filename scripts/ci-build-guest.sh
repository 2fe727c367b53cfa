#!/usr/bin/env bash
# Build the tiny test guest of the QEMU provisioner tests: a Debian kernel (PVH vmlinux) and a
# busybox-static initramfs that prints `GUEST-READY … cpus=N MemTotal…` and `GUEST-DEVS blk=… net=…`
# on its serial console and powers off on the ACPI power button.
#
# Usage: scripts/ci-build-guest.sh [OUTDIR]   (default: <repo>/.cache/test-guest; tests read
# SLIPWAY_TEST_GUEST_DIR, same default). Debian 12; root (or sudo) only when a package is missing.
# Idempotent: skipped when OUTDIR already holds a guest built by this script from the same kernel
# package. Only Debian's apt mirror is needed. About 12 s on a clean machine.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-${SLIPWAY_TEST_GUEST_DIR:-$REPO/.cache/test-guest}}
export DEBIAN_FRONTEND=noninteractive
T0=$(date +%s%N)
lap() { echo "[ci-build-guest] $1: $(( ($(date +%s%N) - T0) / 1000000 )) ms"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Packages: QEMU, xz (to unpack the kernel), cloud-localds (NoCloud seeds), only when missing.
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v cloud-localds >/dev/null 2>&1 || need+=(cloud-image-utils)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  lap "apt install ${need[*]}"
fi

KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { echo "[ci-build-guest] no linux-image package known to apt (apt-get update?)" >&2; exit 1; }
# The stamp names the kernel package and this script's content: either changing rebuilds.
STAMP="$KPKG $(sha256sum "$0" | cut -c1-16)"
if [ -s "$OUT/vmlinux" ] && [ -s "$OUT/initramfs.cpio.gz" ] && [ "$(cat "$OUT/.built" 2>/dev/null)" = "$STAMP" ]; then
  echo "[ci-build-guest] test guest already built in $OUT ($STAMP)"
  exit 0
fi

rm -rf "$OUT"; mkdir -p "$OUT/pkgs" "$OUT/kern" "$OUT/bb"
# apt-get download runs as _apt: the directory must be writable by it (else a harmless warning).
chmod 777 "$OUT/pkgs"
(cd "$OUT/pkgs" && apt-get download -qq "$KPKG" busybox-static 2>/dev/null)
lap "apt-get download $KPKG busybox-static"

dpkg-deb -x "$OUT"/pkgs/busybox-static_*.deb "$OUT/bb"
MODS="drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci.ko drivers/virtio/virtio_pci_legacy_dev.ko
      drivers/virtio/virtio_pci_modern_dev.ko drivers/block/virtio_blk.ko drivers/net/virtio_net.ko drivers/net/net_failover.ko
      net/core/failover.ko drivers/acpi/button.ko drivers/input/evdev.ko"
PATS=("./boot/vmlinuz-*" "./boot/config-*"); for m in $MODS; do PATS+=("./lib/modules/*/kernel/$m"); done
dpkg-deb --fsys-tarfile "$OUT"/pkgs/linux-image-*.deb | tar -x -C "$OUT/kern" --wildcards "${PATS[@]}"
lap "selective extract"

KV=$(ls "$OUT/kern/lib/modules")
cp "$OUT/kern/boot/vmlinuz-$KV" "$OUT/vmlinuz"
# Uncompressed ELF vmlinux (PVH entry point): skips the in-guest xz decompression, ~2x faster boot under TCG.
OFF=$(LC_ALL=C grep -obUaP '\xfd\x37\x7a\x58\x5a\x00' "$OUT/vmlinuz" | head -1 | cut -d: -f1)
tail -c +$((OFF + 1)) "$OUT/vmlinuz" | xz -dc --single-stream > "$OUT/vmlinux" 2>/dev/null || true

R="$OUT/root"; mkdir -p "$R"/{bin,proc,sys,dev,tmp,etc,lib/mods}
cp "$OUT/bb/bin/busybox" "$R/bin/"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
for m in $MODS; do cp "$OUT/kern/lib/modules/$KV/kernel/$m" "$R/lib/mods/"; done
cat > "$R/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in failover net_failover virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_net button evdev; do
  insmod /lib/mods/$m.ko 2>/dev/null || echo "GUEST-INSMOD-FAIL $m"
done
# ACPI power button (system_powerdown) -> busybox acpid -> ./PWRF/00000080 -> poweroff -f
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\necho GUEST-POWEROFF > /dev/console\nsync\npoweroff -f\n' > /etc/acpi/PWRF/00000080; chmod +x /etc/acpi/PWRF/00000080
grep -q noacpid /proc/cmdline || acpid -c /etc/acpi -l /dev/null -p /tmp/acpid.pid
ip link set lo up
echo "GUEST-READY uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) cpus=$(nproc) $(grep MemTotal /proc/meminfo | tr -s ' ')"
old=""
while true; do
  cur="blk=$(ls /sys/block | grep -v -e loop -e ram | tr '\n' ',') net=$(ls /sys/class/net | tr '\n' ',') pci=$(ls /sys/bus/pci/devices | wc -l)"
  [ "$cur" != "$old" ] && echo "GUEST-DEVS $cur" && old="$cur"
  sleep 0.2
done
EOF
chmod 755 "$R/init"
(cd "$R" && find . | "$OUT/bb/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -9 > "$OUT/initramfs.cpio.gz")
rm -rf "$OUT/pkgs" "$OUT/root" "$OUT/bb"   # keep kern/ (config + modules) for reference
lap "initramfs built"

# Smoke test: boot under TCG (KVM may be absent or unusable), wait for GUEST-READY on the serial console.
SER="$OUT/smoke-serial.log"; rm -f "$SER"
KERNEL="$OUT/vmlinux"; [ -s "$KERNEL" ] || KERNEL="$OUT/vmlinuz"
S=$(date +%s%N)
qemu-system-x86_64 -machine q35 -accel tcg -m 256 -nodefaults -display none -no-reboot \
  -kernel "$KERNEL" -initrd "$OUT/initramfs.cpio.gz" -append "console=ttyS0 panic=-1 quiet" \
  -serial "file:$SER" 2>/dev/null &
QPID=$!
for _ in $(seq 1 1500); do grep -q GUEST-READY "$SER" 2>/dev/null && break; sleep 0.02; done
grep GUEST-READY "$SER" || { echo "[ci-build-guest] smoke boot FAILED" >&2; kill "$QPID"; exit 1; }
echo "[ci-build-guest] smoke boot spawn->GUEST-READY: $(( ($(date +%s%N) - S) / 1000000 )) ms"
kill "$QPID"; wait "$QPID" 2>/dev/null || true
echo "$STAMP" > "$OUT/.built"
lap "test guest built in $OUT"
