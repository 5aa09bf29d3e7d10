-- MailWizz's delivery-server tables, column for column as MailWizz's own install SQL creates them:
-- apps/common/data/install-sql/schema.sql of MailWizz 2.3.9 (the newest apps/common/data/update-sql/
-- file in that tree is 2.3.9.sql), public copy github.com/bevirtualagency/mailwizz-platform at commit
-- 978a1029ef4c9adf9ae28b4a25d70ada8423c98f. Transcribed by hand (tables `delivery_server_warmup_plan`
-- and `delivery_server`, and the foreign key between them from the same file's constraint section;
-- `campaign` and `campaign_delivery_log`, and the delivery log's foreign keys to them and to
-- `delivery_server` from the same section — the one to `list_subscriber` is left out with that table);
-- the engine writes only `delivery_server`, and reads `campaign` joined with `campaign_delivery_log`
-- to find the campaigns that were sending through a server it stops.
--
-- Differences from older installs that the adapter must survive: `warmup_plan_id` (added in 2.1.10
-- with the native warmup plans), `force_from_name` (2.3.8), and `use_for` as a bit mask INT (2.3.8;
-- before it was CHAR(15) 'all').
-- The table prefix placeholder {prefix} is replaced by the test fixture (MailWizz's default: mw_).
CREATE TABLE `{prefix}delivery_server_warmup_plan` (
  `plan_id` int(11) NOT NULL AUTO_INCREMENT,
  `customer_id` INT(11) NULL DEFAULT NULL,
  `name` varchar(50) NOT NULL,
  `description` VARCHAR(255) NULL,
  `sending_limit` INT(11) NOT NULL DEFAULT '0',
  `sendings_count` INT(11) NOT NULL DEFAULT '0',
  `sending_quota_type` enum('hourly','daily','monthly') NOT NULL DEFAULT 'hourly',
  `sending_increment_ratio` INT(11) NOT NULL DEFAULT '0',
  `sending_strategy` enum('exponential','linear') NOT NULL DEFAULT 'linear',
  `sending_limit_type` enum('total','targeted') NOT NULL DEFAULT 'total',
  `status` char(15) NOT NULL DEFAULT 'draft',
  `date_added` datetime NOT NULL,
  `last_updated` datetime NOT NULL,
  PRIMARY KEY (`plan_id`),
  KEY `fk_ds_warmup_plan_customer1_idx` (`customer_id`)
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci AUTO_INCREMENT=1;

CREATE TABLE `{prefix}delivery_server` (
  `server_id` int(11) NOT NULL AUTO_INCREMENT,
  `customer_id` INT(11) NULL DEFAULT NULL,
  `bounce_server_id` int(11) NULL,
  `tracking_domain_id` int(11) NULL,
  `warmup_plan_id` int(11) NULL,
  `type` char(20) NOT NULL,
  `name` varchar(255) NULL,
  `hostname` varchar(255) NOT NULL,
  `username` varchar(255) NOT NULL,
  `password` varchar(255) NULL,
  `port` int(5) NULL DEFAULT '25',
  `protocol` char(10) NULL,
  `timeout` int(3) NULL DEFAULT '30',
  `from_email` varchar(255) NOT NULL,
  `from_name` varchar(255) NULL,
  `reply_to_email` VARCHAR(255) NULL DEFAULT NULL,
  `probability` int(3) NOT NULL DEFAULT '100',
  `hourly_quota` int(11) NOT NULL DEFAULT '0',
  `daily_quota` int(11) NOT NULL DEFAULT '0',
  `monthly_quota` int(11) NOT NULL DEFAULT '0',
  `pause_after_send` int(11) NOT NULL DEFAULT '0',
  `meta_data` blob,
  `confirmation_key` char(40) NULL,
  `locked` enum('yes', 'no') NOT NULL DEFAULT 'no',
  `use_for` INT(11) NOT NULL DEFAULT '1',
  `signing_enabled` enum('yes', 'no') NOT NULL DEFAULT 'yes',
  `force_from` VARCHAR(50) NOT NULL DEFAULT 'never',
  `force_from_name` VARCHAR(50) NOT NULL DEFAULT 'never',
  `force_reply_to` VARCHAR(50) NOT NULL DEFAULT 'never',
  `force_sender` enum('yes', 'no') NOT NULL DEFAULT 'no',
  `must_confirm_delivery` ENUM('yes','no') NOT NULL DEFAULT 'no',
  `max_connection_messages` INT(11) NOT NULL DEFAULT '1',
  `status` char(15) NOT NULL DEFAULT 'inactive',
  `date_added` datetime NOT NULL,
  `last_updated` datetime NOT NULL,
  PRIMARY KEY (`server_id`),
  KEY `fk_delivery_server_bounce_server1_idx` (`bounce_server_id`),
  KEY `idx_gen0` (`status`, `hourly_quota`, `probability`),
  KEY `fk_delivery_server_customer1_idx` (`customer_id`),
  KEY `fk_delivery_server_tracking_domain1_idx` (`tracking_domain_id`),
  KEY `fk_delivery_server_ds_warmup_plan1_idx` (`warmup_plan_id`),
  KEY `delivery_server_use_for_idx` (`use_for`),
  CONSTRAINT `fk_{prefix}delivery_server_ds_warmup_plan1` FOREIGN KEY (`warmup_plan_id`)
    REFERENCES `{prefix}delivery_server_warmup_plan` (`plan_id`) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci AUTO_INCREMENT=1;

CREATE TABLE `{prefix}campaign` (
  `campaign_id` int(11) NOT NULL AUTO_INCREMENT,
  `campaign_uid` char(13) NOT NULL,
  `customer_id` int(11) NOT NULL,
  `list_id` int(11) NOT NULL,
  `segment_id` int(11) DEFAULT NULL,
  `group_id` int(11) DEFAULT NULL,
  `send_group_id` int(11) DEFAULT NULL,
  `type` char(15) NOT NULL DEFAULT 'regular',
  `name` varchar(255) NOT NULL,
  `from_name` varchar(255) NULL,
  `from_email` varchar(100) NOT NULL,
  `to_name` varchar(255) NOT NULL DEFAULT '[EMAIL]',
  `reply_to` varchar(100) NULL,
  `subject` varchar(500) NULL,
  `subject_encoded` varbinary(768) NULL,
  `send_at` datetime NULL,
  `started_at` datetime NULL,
  `finished_at` datetime NULL,
  `send_between_start` CHAR(8) NULL,
  `send_between_interval` INT(2) NULL,
  `delivery_logs_archived` ENUM('yes','no') NOT NULL DEFAULT 'no',
  `priority` INT(11) NOT NULL DEFAULT '0',
  `status` char(15) NOT NULL DEFAULT 'draft',
  `date_added` datetime NOT NULL,
  `last_updated` datetime NOT NULL,
  PRIMARY KEY (`campaign_id`),
  UNIQUE KEY `campaign_uid_UNIQUE` (`campaign_uid`),
  KEY `fk_campaign_list1_idx` (`list_id`),
  KEY `fk_campaign_list_segment1_idx` (`segment_id`),
  KEY `fk_campaign_customer1_idx` (`customer_id`),
  KEY `fk_campaign_campaign_group1_idx` (`group_id`),
  KEY `fk_campaign_campaign_send_group1_idx` (`send_group_id`),
  KEY `type` (`type`),
  KEY `status_delivery_logs_archived_campaign_id` (`status`, `delivery_logs_archived`, `campaign_id`)
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci AUTO_INCREMENT=1;

CREATE TABLE `{prefix}campaign_delivery_log` (
  `log_id` bigint(20) NOT NULL AUTO_INCREMENT,
  `campaign_id` int(11) NOT NULL,
  `subscriber_id` int(11) NOT NULL,
  `server_id` int(11) NULL DEFAULT NULL,
  `message` text NULL,
  `processed` enum('yes','no') NOT NULL DEFAULT 'no',
  `retries` int(1) NOT NULL DEFAULT '0',
  `max_retries` int(1) NOT NULL DEFAULT '3',
  `email_message_id` varchar(255) NULL,
  `delivery_confirmed` ENUM('yes','no') NOT NULL DEFAULT 'yes',
  `status` char(15) NOT NULL DEFAULT 'success',
  `date_added` datetime NOT NULL,
  PRIMARY KEY (`log_id`),
  KEY `fk_campaign_delivery_log_list_subscriber1_idx` (`subscriber_id`),
  KEY `fk_campaign_delivery_log_campaign1_idx` (`campaign_id`),
  KEY `fk_campaign_delivery_log_delivery_server1_idx` (`server_id`),
  KEY `sub_proc_status` (`subscriber_id`,`processed`,`status`),
  KEY `proc_status` (`processed`,`status`),
  KEY `email_message_id` (`email_message_id`(191)),
  KEY `cid_status`(`campaign_id`, `status`),
  KEY `cid_date_added`(`campaign_id`, `date_added`),
  CONSTRAINT `fk_{prefix}campaign_delivery_log_campaign1` FOREIGN KEY (`campaign_id`)
    REFERENCES `{prefix}campaign` (`campaign_id`) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT `fk_{prefix}campaign_delivery_log_delivery_server1` FOREIGN KEY (`server_id`)
    REFERENCES `{prefix}delivery_server` (`server_id`) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci AUTO_INCREMENT=1;
