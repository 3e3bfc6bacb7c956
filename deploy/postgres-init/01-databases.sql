-- One database and one login role per service, so a service can reach only its own data.
-- The postgres image runs this once, when its data volume is first initialised.
-- DEVELOPMENT PASSWORDS (role name = password); use real ones anywhere else.
-- Each service creates its own tables at start-up.

CREATE ROLE oms_inventory LOGIN PASSWORD 'oms_inventory';
CREATE DATABASE oms_inventory OWNER oms_inventory;
REVOKE ALL ON DATABASE oms_inventory FROM PUBLIC;

CREATE ROLE oms_orders LOGIN PASSWORD 'oms_orders';
CREATE DATABASE oms_orders OWNER oms_orders;
REVOKE ALL ON DATABASE oms_orders FROM PUBLIC;

CREATE ROLE oms_returns LOGIN PASSWORD 'oms_returns';
CREATE DATABASE oms_returns OWNER oms_returns;
REVOKE ALL ON DATABASE oms_returns FROM PUBLIC;

CREATE ROLE oms_procurement LOGIN PASSWORD 'oms_procurement';
CREATE DATABASE oms_procurement OWNER oms_procurement;
REVOKE ALL ON DATABASE oms_procurement FROM PUBLIC;

CREATE ROLE oms_workorders LOGIN PASSWORD 'oms_workorders';
CREATE DATABASE oms_workorders OWNER oms_workorders;
REVOKE ALL ON DATABASE oms_workorders FROM PUBLIC;

CREATE ROLE oms_channels LOGIN PASSWORD 'oms_channels';
CREATE DATABASE oms_channels OWNER oms_channels;
REVOKE ALL ON DATABASE oms_channels FROM PUBLIC;
