# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the tests of systemd/ (after functions.sh): the
# directories systemd would make for the units, under $tmpdir, and the
# environment it would give their commands.
#   $START, $BACKUP       systemd/nbdkit-fleece-start, -backup (sources)
#   $UNITS                systemd/ and libvirt/ (sources)
#   conf VM KEY=VALUE...  write $CONFIGURATION_DIRECTORY/VM.conf with
#                         these lines and make them the environment, as
#                         EnvironmentFile= does (every key of the
#                         format unset first)
# nbdkit is a wrapper ($NBDKIT) that runs this build's filter and
# plugin for the names --filter=fleece and vmdisk; fleecectl is this
# build's ($FLEECECTL).
UNITS=$abs_top_srcdir
START=$abs_top_srcdir/systemd/nbdkit-fleece-start
BACKUP=$abs_top_srcdir/systemd/nbdkit-fleece-backup
export CONFIGURATION_DIRECTORY=$tmpdir/etc
export RUNTIME_DIRECTORY=$tmpdir/run
export STATE_DIRECTORY=$tmpdir/lib
mkdir -p "$CONFIGURATION_DIRECTORY" "$RUNTIME_DIRECTORY" "$STATE_DIRECTORY"
export NBDKIT=$tmpdir/nbdkit-wrapper
cat > "$NBDKIT" <<WRAP
#!/bin/bash
args=()
for a in "\$@"; do
  case \$a in
    --filter=fleece) a=--filter=$FLEECE ;;
    vmdisk) a=$VMDISK ;;
  esac
  args+=("\$a")
done
exec nbdkit "\${args[@]}"
WRAP
chmod +x "$NBDKIT"
export FLEECECTL="${FLEECECTL:-$abs_top_builddir/tools/fleecectl/fleecectl}"

conf_keys="DISK DISKS DOMAIN LIBVIRT_URI CONTROL CONTROL_GROUP CONTROL_MODE
  SNAPSHOT_ALLOW_USER SNAPSHOT_ALLOW_GROUP FLEECE_DIR FLEECE_MAX_SIZE CBT
  THREADS NBDKIT_ARGS BACKUP_DIR BACKUP_QUIESCE BACKUP_KEEP_CHAINS BACKUP_KEEP_DAYS
  BACKUP_METRICS BACKUP_ARGS"
conf ()
{
  local vm="$1" line value
  shift
  # shellcheck disable=SC2086
  unset $conf_keys
  : > "$CONFIGURATION_DIRECTORY/$vm.conf"
  for line in "$@"; do
    printf '%s\n' "$line" >> "$CONFIGURATION_DIRECTORY/$vm.conf"
    value=${line#*=}
    value=${value#\"} value=${value%\"}  # EnvironmentFile= drops the quotes
    export "${line%%=*}=$value"
  done
}
