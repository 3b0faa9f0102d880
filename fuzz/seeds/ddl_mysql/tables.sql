/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE IF NOT EXISTS `shop`.`film` (
  `film_id` SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `title` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `rating` ENUM('G','PG','PG-13','R') DEFAULT 'G',
  `features` SET('Trailers','Commentaries') DEFAULT NULL,
  `release_year` YEAR,
  `price` DECIMAL(4,2) NOT NULL DEFAULT '4.99' COMMENT 'it''s the "price"',
  `blob` LONGBLOB,
  `doc` JSON,
  `flag` TINYINT(1) ZEROFILL,
  `at` DATETIME(3) ON UPDATE CURRENT_TIMESTAMP(3),
  `upd` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `g` GEOMETRY NOT NULL SRID 4326,
  `len` INT AS (CHAR_LENGTH(title)) VIRTUAL,
  PRIMARY KEY (`film_id`),
  UNIQUE KEY `uk_title` (`title`(20)),
  KEY `idx_year` (`release_year`) USING BTREE,
  FULLTEXT KEY `ft` (`title`),
  SPATIAL INDEX (`g`),
  CONSTRAINT `fk_lang` FOREIGN KEY (`film_id`) REFERENCES `language` (`language_id`) ON DELETE RESTRICT ON UPDATE CASCADE,
  CHECK (`price` >= 0)
) ENGINE=InnoDB AUTO_INCREMENT=1001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci ROW_FORMAT=DYNAMIC COMMENT='films';
