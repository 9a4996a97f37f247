file(REMOVE_RECURSE
  "libvdemesh_vswitchd.a"
)
