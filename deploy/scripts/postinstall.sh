ensure_user
ensure_dir @DATADIR@
if have_systemd; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	systemctl enable @UNIT@ >/dev/null 2>&1 || true
	if is_upgrade "$@"; then
		systemctl try-restart @UNIT@ || true
	else
		systemctl start @UNIT@ || true
	fi
fi
if ! is_upgrade "$@"; then
	cat <<'MSG'
@MESSAGE@
MSG
fi
