# On removal (not on upgrade) stop the service: with KillMode=mixed systemd
# ends the collector and any load-simulation child with it.
if is_removal "$1" && have_systemd; then
	systemctl stop @UNIT@ || true
	systemctl disable @UNIT@ >/dev/null 2>&1 || true
fi
