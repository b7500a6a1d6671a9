# Shared by the maintainer scripts of phoenix-agent and phoenix-server
# (deb: $1 is configure|remove|upgrade|purge...; rpm: $1 is a package count).
# DPKG_ROOT is set when dpkg installs into another root (dpkg --root with
# --force-script-chrootless): every path and the user database are under it.
ROOT="${DPKG_ROOT:-}"

ensure_user() {
	if ! grep -q '^phoenix:' "$ROOT/etc/passwd" 2>/dev/null; then
		if [ -n "$ROOT" ]; then
			useradd --prefix "$ROOT" --system --user-group --home-dir /var/lib/phoenix --no-create-home --shell /usr/sbin/nologin phoenix
		else
			useradd --system --user-group --home-dir /var/lib/phoenix --no-create-home --shell /usr/sbin/nologin phoenix
		fi
	fi
}

# ensure_dir DIR: the data directory, owned by phoenix, 0750. Never emptied
# on upgrade; the package does not own its contents.
ensure_dir() {
	uid=$(awk -F: '$1 == "phoenix" { print $3 }' "$ROOT/etc/passwd")
	gid=$(awk -F: '$1 == "phoenix" { print $3 }' "$ROOT/etc/group")
	mkdir -p "$ROOT/var/lib/phoenix" "$ROOT$1"
	chown "$uid:$gid" "$ROOT/var/lib/phoenix" "$ROOT$1"
	chmod 0750 "$ROOT/var/lib/phoenix" "$ROOT$1"
}

have_systemd() {
	[ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# is_upgrade: deb "configure <old-version>", rpm "2" (or more).
is_upgrade() {
	case "$1" in
	configure) [ -n "$2" ] ;;
	[0-9]*) [ "$1" -ge 2 ] ;;
	*) false ;;
	esac
}

# is_removal (prerm/postrm): deb "remove"/"purge", rpm "0".
is_removal() {
	case "$1" in
	remove | purge | 0) true ;;
	*) false ;;
	esac
}
