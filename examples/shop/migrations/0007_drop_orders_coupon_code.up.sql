-- bgmigrate:phase contract -- coupons moved to their own table two releases ago; no color reads orders.coupon_code
SET lock_timeout = '2s';
ALTER TABLE orders DROP COLUMN coupon_code;
