if have_systemd; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
# Removal keeps the data directory (identity, last working config, database);
# only a purge deletes it.
if [ "$1" = purge ]; then
	rm -rf "$ROOT@DATADIR@"
fi
