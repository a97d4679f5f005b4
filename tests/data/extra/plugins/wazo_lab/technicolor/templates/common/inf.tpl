[application]
fwurl={{ XX_server_url }}/binary/v2022-lab.zz

[config]
telcfg={{ XX_server_url }}/telconf-lab.txt
config={{ XX_server_url }}/
