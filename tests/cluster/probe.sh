#!/bin/sh
# probe NODE SECONDS: watches what IMM shows of macsync's objects of NODE, read on the node this
# runs on, for SECONDS. Prints one line at the start and one whenever something changed:
#   TIME member=M SaImmAttrImplementerName=I mirrorState=S mirrorStateBy=B ifs=NAME@MAC,...
# TIME is when the read ended (seconds since the epoch: the containers share the host's clock),
# so a change happened at or before it. M is CLM's saClmNodeIsMember of NODE. A read that
# failed (IMM busy during a failover) prints TIME ERR and is not a change.
node=$1
end=$(($(date +%s) + $2))
dn=macSyncNodeId=$node
last=
while [ "$(date +%s)" -lt "$end" ]; do
  if state=$(immlist -a mirrorState -a mirrorStateBy -a SaImmAttrImplementerName "$dn" 2>/dev/null) &&
    member=$(immlist -a saClmNodeIsMember "safNode=$node,safCluster=myClmCluster" 2>/dev/null) &&
    objs=$(immfind -c MacSyncInterface "$dn" 2>/dev/null); then
    ifs=
    for o in $objs; do
      name=${o%%,*}
      mac=$(immlist -a macAddress "$o" 2>/dev/null) || mac=gone
      ifs="$ifs,${name#*=}@${mac#macAddress=}"
    done
    cur="member=${member#*=} $(echo "$state" | sort | tr '\n' ' ')ifs=${ifs#,}"
    if [ "$cur" != "$last" ]; then
      echo "$(date +%s.%N) $cur"
      last=$cur
    fi
  else
    echo "$(date +%s.%N) ERR"
  fi
  sleep 0.1
done
